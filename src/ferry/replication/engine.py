"""The replication engine of one region: rule life cycle, backfill, and the worker pool.

Workers claim tasks with a lease from the durable queue, execute them and
acknowledge; a failure re-queues the task with backoff.  Everything the engine
knows is in the database, so a killed process resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from ferry.core.clock import Clock
from ferry.core.replication_rules import RuleStatus
from ferry.core.replication_task import ReplicationTask
from ferry.replication.executor import TaskExecutor
from ferry.replication.settings import EngineSettings
from ferry.service.replication_admin import TargetDirectory
from ferry.storage.sqlite_replication import IncomingRule, SqliteReplicationStore
from ferry.storage.sqlite_tasks import SqliteTaskQueue

log = logging.getLogger("ferry.replication")

P = ParamSpec("P")
T = TypeVar("T")


class ReplicationEngine:
    def __init__(
        self,
        region: str,
        rules: SqliteReplicationStore,
        queue: SqliteTaskQueue,
        executor: TaskExecutor,
        directory: TargetDirectory,
        clock: Clock,
        settings: EngineSettings | None = None,
    ) -> None:
        self._region = region
        self._rules = rules
        self._queue = queue
        self._executor = executor
        self._directory = directory
        self._clock = clock
        self.settings = settings or EngineSettings()
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.workers + 2, thread_name_prefix="ferry-repl"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._todo: asyncio.Queue[ReplicationTask] = asyncio.Queue()
        self._done: asyncio.Queue[ReplicationTask] = asyncio.Queue()
        self._in_flight = 0

    # --- lifetime -------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        released = await self._run(self._queue.release_leases)
        if released:
            log.info("took back %d replication task(s) leased before a restart", released)
        self._tasks = [
            asyncio.create_task(self._housekeeping(), name="replication-housekeeping"),
            asyncio.create_task(self._dispatcher(), name="replication-dispatcher"),
            asyncio.create_task(self._acker(), name="replication-acker"),
        ]
        self._tasks += [
            asyncio.create_task(self._worker(), name=f"replication-worker-{i}")
            for i in range(self.settings.workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        """Called (from any thread) after a commit queued replication work."""
        loop, event = self._loop, self._wakeup
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))

    # --- dispatcher, workers, acker -------------------------------------------
    #
    # One dispatcher claims (so a commit wakes one claim, not one per worker), the workers
    # execute, one acker acknowledges in batches.  A crash between execution and ack only
    # repeats work, which the destination ignores: nothing is lost by batching acks.

    async def _dispatcher(self) -> None:
        assert self._wakeup is not None
        capacity = 4 * self.settings.workers
        while True:
            self._wakeup.clear()
            room = capacity - self._in_flight
            tasks: list[ReplicationTask] = []
            if room > 0:
                try:
                    tasks = await self._run(
                        self._queue.claim, self._clock.now(), room, self.settings.lease_seconds
                    )
                except Exception:
                    log.exception("claiming replication tasks failed")
            for task in tasks:
                self._in_flight += 1
                self._todo.put_nowait(task)
            if len(tasks) == room and room > 0:
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.idle_poll_seconds)

    async def _worker(self) -> None:
        while True:
            task = await self._todo.get()
            try:
                await self._run(self._executor.execute, task)
            except Exception as exc:
                log.info("replication task %s (%s/%s) failed: %s", task.id, task.bucket, task.key, exc)
                try:
                    await self._run(self._queue.fail, task, f"{type(exc).__name__}: {exc}", self._clock.now())
                finally:
                    self._finished()
                continue
            # The slot frees now; until its ack commits the task stays leased, so it is not
            # claimed again and the next change of its key waits (per-key order holds).
            self._done.put_nowait(task)
            self._finished()

    async def _acker(self) -> None:
        while True:
            batch = [await self._done.get()]
            while not self._done.empty() and len(batch) < 256:
                batch.append(self._done.get_nowait())
            try:
                await self._run(self._queue.ack_many, batch)
            except Exception:
                # Unacknowledged tasks come back when their lease ends; executing them again is harmless.
                log.exception("acknowledging %d replication tasks failed", len(batch))
            assert self._wakeup is not None
            self._wakeup.set()  # the next change of an acknowledged key may be due now

    def _finished(self) -> None:
        self._in_flight -= 1
        assert self._wakeup is not None
        self._wakeup.set()  # room for more work, and the next task of the same key may be due

    # --- rule life cycle and backfill -----------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            try:
                await self._run(self.housekeeping_once)
            except Exception:
                log.exception("replication housekeeping failed")
            await asyncio.sleep(self.settings.housekeeping_seconds)

    def housekeeping_once(self) -> None:
        now = self._clock.now()
        settle = self.settings.rule_settle_seconds
        for stored in self._rules.rules_in_status(RuleStatus.STARTING):
            if now - stored.status_changed_at >= settle:
                self._queue.take_rule(stored.bucket, stored.rule, now)
        queued = False
        for stored in self._rules.rules_in_status(RuleStatus.DOING):
            for _ in range(self.settings.backfill_batches_per_tick):
                count, more = self._queue.backfill_step(stored.bucket, stored.rule, now)
                queued = queued or count > 0
                if not more:
                    break
        for stored in self._rules.rules_in_status(RuleStatus.CLOSING):
            if now - stored.status_changed_at >= settle:
                self._close(
                    stored.bucket, stored.rule.rule_id, stored.rule.dest_bucket, stored.rule.dest_location
                )
        if queued:
            self.wake()

    def _close(self, bucket: str, rule_id: str, dest_bucket: str, dest_location: str) -> None:
        # Withdraw at the destination first: if it is unreachable the rule stays closing and
        # this is tried again, so the destination never keeps counting a rule that is gone.
        try:
            self._directory.withdraw(dest_location, IncomingRule(dest_bucket, self._region, bucket, rule_id))
        except Exception as exc:
            log.info("withdrawing rule %s at %s failed, will retry: %s", rule_id, dest_location, exc)
            return
        self._rules.remove_rule(bucket, rule_id)
