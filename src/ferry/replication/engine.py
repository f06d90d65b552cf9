"""The replication engine of one region: rule life cycle, backfill, and the worker pool.

Workers claim tasks with a lease from the durable queue, execute them and
acknowledge; a failure re-queues the task with backoff.  Everything the engine
knows is in the database, so a killed process resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import ParamSpec, TypeVar

from ferry.core.clock import Clock
from ferry.core.replication_rules import RuleStatus
from ferry.core.replication_task import ReplicationTask
from ferry.observability.logs import REQUEST_ID
from ferry.replication.executor import TaskExecutor
from ferry.replication.observer import NoObserver, ReplicationObserver
from ferry.replication.settings import EngineSettings
from ferry.service.replication_admin import TargetDirectory
from ferry.storage.sqlite_lag import LagSample, SqliteLagLog
from ferry.storage.sqlite_replication import IncomingRule, SqliteReplicationStore
from ferry.storage.sqlite_tasks import SqliteTaskQueue

log = logging.getLogger("ferry.replication")

P = ParamSpec("P")
T = TypeVar("T")

_PRUNE_SECONDS = 60.0
_BATCH_TASKS = 64
"""The most tasks one worker takes at once (see ``protocol/replica_batch``)."""


class Lane(enum.Enum):
    RTC = "rtc"
    GENERAL = "general"


class _Lane:
    """Claimed tasks of one lane waiting for its workers, and how many it holds in all."""

    def __init__(self) -> None:
        self.todo: asyncio.Queue[ReplicationTask] = asyncio.Queue()
        self.in_flight = 0


@dataclass(frozen=True)
class _Done:
    task: ReplicationTask
    done_at: float
    timed: bool
    """Whether it adds a lag sample (not historical, not superseded)."""


def _sample(done: _Done) -> LagSample:
    task = done.task
    return LagSample(
        task.bucket, task.rule_id, task.key, task.version_id, task.rtc, task.created_at, done.done_at
    )


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
        observer: ReplicationObserver | None = None,
        lag_log: SqliteLagLog | None = None,
    ) -> None:
        self._region = region
        self._rules = rules
        self._queue = queue
        self._executor = executor
        self._directory = directory
        self._clock = clock
        self.settings = settings or EngineSettings()
        self._observer: ReplicationObserver = observer or NoObserver()
        self._lag_log = lag_log
        # A thread per worker of both lanes, so an RTC task never waits for a thread either.
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.workers + self.settings.rtc_workers + 2, thread_name_prefix="ferry-repl"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lanes = {lane: _Lane() for lane in Lane}
        self._done: asyncio.Queue[_Done] = asyncio.Queue()
        self._last_prune = 0.0
        # While RTC work is about, only the first few general workers run: the others wait for a
        # quiet moment, so a backfill takes neither the CPU nor the database from RTC changes.
        self._rtc_quiet: asyncio.Event | None = None
        self._last_rtc = 0.0
        self._throttled_workers = max(1, self.settings.workers // 8)

    # --- lifetime -------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._rtc_quiet = asyncio.Event()
        self._rtc_quiet.set()
        released = await self._run(self._queue.release_leases)
        if released:
            log.info("took back %d replication task(s) leased before a restart", released)
        self._tasks = [
            asyncio.create_task(self._housekeeping(), name="replication-housekeeping"),
            asyncio.create_task(self._dispatcher(), name="replication-dispatcher"),
            asyncio.create_task(self._acker(), name="replication-acker"),
        ]
        self._tasks += [
            asyncio.create_task(
                self._worker(Lane.GENERAL, yields_to_rtc=i >= self._throttled_workers),
                name=f"replication-worker-{i}",
            )
            for i in range(self.settings.workers)
        ]
        self._tasks += [
            asyncio.create_task(
                self._worker(Lane.RTC, yields_to_rtc=False), name=f"replication-rtc-worker-{i}"
            )
            for i in range(self.settings.rtc_workers)
        ]

    def lane_depths(self) -> dict[str, tuple[int, int]]:
        """Per lane: (tasks claimed and waiting for a worker, tasks claimed in all)."""
        return {lane.value: (state.todo.qsize(), state.in_flight) for lane, state in self._lanes.items()}

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
        general, rtc = self._lanes[Lane.GENERAL], self._lanes[Lane.RTC]
        capacity = 4 * self.settings.workers
        rtc_capacity = 2 * self.settings.rtc_workers
        throttled_capacity = 2 * self._throttled_workers
        while True:
            self._wakeup.clear()
            rtc_busy = self._rtc_busy(rtc)
            room = (throttled_capacity if rtc_busy else capacity) - general.in_flight
            rtc_room = rtc_capacity - rtc.in_flight
            claimed: tuple[list[ReplicationTask], list[ReplicationTask]] = ([], [])
            if room > 0 or rtc_room > 0:
                try:
                    claimed = await self._claim(max(0, rtc_room), max(0, room))
                except Exception:
                    log.exception("claiming replication tasks failed")
            for lane, tasks in zip((rtc, general), claimed, strict=True):
                for task in tasks:
                    lane.in_flight += 1
                    lane.todo.put_nowait(task)
            if claimed[0]:
                self._last_rtc = time.monotonic()
                assert self._rtc_quiet is not None
                self._rtc_quiet.clear()
            if (room > 0 and len(claimed[1]) == room) or (rtc_room > 0 and len(claimed[0]) == rtc_room):
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.idle_poll_seconds)

    def _rtc_busy(self, rtc: _Lane) -> bool:
        """Whether RTC work is in flight or was recently; sets the quiet event once it is over."""
        assert self._rtc_quiet is not None
        if self._rtc_quiet.is_set():
            return False
        if rtc.in_flight == 0 and time.monotonic() - self._last_rtc >= self.settings.rtc_quiet_seconds:
            self._rtc_quiet.set()
            return False
        return True

    async def _claim(self, rtc_room: int, room: int) -> tuple[list[ReplicationTask], list[ReplicationTask]]:
        now, lease = self._clock.now(), self.settings.lease_seconds
        if self.settings.rtc_workers == 0:  # one lane: RTC tasks still come first in it
            return [], await self._run(self._queue.claim, now, room, lease)
        return await self._run(self._queue.claim_lanes, now, rtc_room, room, lease)

    async def _worker(self, lane: Lane, *, yields_to_rtc: bool) -> None:
        state = self._lanes[lane]
        assert self._rtc_quiet is not None
        while True:
            if yields_to_rtc:
                await self._rtc_quiet.wait()
            task = await state.todo.get()
            # Tasks waiting behind it go along: under load small objects then travel to the
            # destination many per request (a quiet queue still sends each at once).
            batch = [task]
            while len(batch) < _BATCH_TASKS and not state.todo.empty():
                batch.append(state.todo.get_nowait())
            REQUEST_ID.set(f"task-{task.id}")  # the log lines of this task's work carry its ID
            outcomes: list[int | Exception | None]
            if len(batch) == 1:
                try:
                    outcomes = [await self._run(self._executor.execute, task)]
                except Exception as exc:
                    outcomes = [exc]
            else:
                try:
                    outcomes = await self._run(self._executor.execute_batch, batch)
                except Exception as exc:
                    outcomes = [exc] * len(batch)
            for done, outcome in zip(batch, outcomes, strict=True):
                await self._settle(state, done, outcome)

    async def _settle(self, state: _Lane, task: ReplicationTask, outcome: int | Exception | None) -> None:
        if isinstance(outcome, Exception):
            log.info("replication task %s (%s/%s) failed: %s", task.id, task.bucket, task.key, outcome)
            self._observer.failed(task)
            try:
                await self._run(
                    self._queue.fail, task, f"{type(outcome).__name__}: {outcome}", self._clock.now()
                )
            finally:
                self._finished(state)
            return
        done_at = self._clock.now()
        # A superseded change (None) reached the destination as its successor: its lag is the
        # successor's, so it adds no sample of its own (it would count an outage as "in time").
        timed = outcome is not None and not task.historical
        self._observer.replicated(task, outcome or 0, done_at - task.created_at if timed else None)
        # The slot frees now; until its ack commits the task stays leased, so it is not
        # claimed again and the next change of its key waits (per-key order holds).
        self._done.put_nowait(_Done(task, done_at, timed))
        self._finished(state)

    async def _acker(self) -> None:
        while True:
            batch = [await self._done.get()]
            while not self._done.empty() and len(batch) < 256:
                batch.append(self._done.get_nowait())
            samples = [_sample(done) for done in batch if done.timed]
            record = None
            if self._lag_log is not None and samples:
                record = partial(self._lag_log.record_in, samples=samples)
            try:
                await self._run(self._queue.ack_many, [done.task for done in batch], record)
            except Exception:
                # Unacknowledged tasks come back when their lease ends; executing them again is harmless.
                log.exception("acknowledging %d replication tasks failed", len(batch))
            assert self._wakeup is not None
            self._wakeup.set()  # the next change of an acknowledged key may be due now

    def _finished(self, lane: _Lane) -> None:
        lane.in_flight -= 1
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
        if self._lag_log is not None and now - self._last_prune >= _PRUNE_SECONDS:
            self._last_prune = now
            self._lag_log.prune(now - self.settings.lag_retention_seconds)
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
