"""Group commit for the metadata store: many writes per transaction, one fsync per group.

Small PUTs are bound by what each commit costs, not by what it does: a
transaction of its own writes every page it touched to the WAL and waits for an
fsync.  Here one writer thread takes every write that is waiting, runs each in
its own savepoint (so one failing write does not undo its neighbours), commits
them together, and hands the group to a syncer thread that waits for the WAL
fsync and only then completes the callers' futures — so a caller is answered
only once its change is on stable storage, while the writer already runs the
next group.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from ferry.storage.sqlite_db import SqliteDatabase

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]

MAX_GROUP = 128
"""Writes per transaction at most (bounds how long one group holds the database)."""


@dataclass
class _Job:
    work: Work
    future: Future[Any]
    after: Callable[[Any], None] | None = None
    """Runs on the syncer thread once the write is durable (before the future completes)."""


@dataclass
class _Done:
    ticket: int
    outcomes: list[tuple[_Job, Any, BaseException | None]]


class GroupWriter:
    def __init__(self, db: SqliteDatabase, name: str = "ferry-writer") -> None:
        self._db = db
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[_Done | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name=name, daemon=True)
        self._syncer = threading.Thread(target=self._sync_loop, name=f"{name}-sync", daemon=True)
        self._writer.start()
        self._syncer.start()

    def submit(
        self, work: Callable[[sqlite3.Connection], T], after: Callable[[T], None] | None = None
    ) -> Future[T]:
        """Run ``work`` in a write transaction; the future completes once the commit is durable."""
        future: Future[T] = Future()
        if threading.current_thread() is self._writer:
            raise RuntimeError("a write inside a write would wait for itself")
        self._jobs.put(_Job(work, future, after))
        return future

    def close(self) -> None:
        self._jobs.put(None)
        self._writer.join(timeout=10)

    def _write_loop(self) -> None:
        conn = self._db.conn()
        while True:
            first = self._jobs.get()
            if first is None:
                self._done.put(None)
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # finish this group, then stop
                    break
                group.append(job)
            done = self._run_group(conn, group)
            if self._db.durable:
                self._done.put(done)
            else:
                _complete(done, None)  # nothing to wait for: spare the hand-over

    def _run_group(self, conn: sqlite3.Connection, group: list[_Job]) -> _Done:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self._db.transaction(conn) as commit:
                for job in group:
                    conn.execute("SAVEPOINT job")
                    try:
                        result = job.work(conn)
                    except BaseException as error:  # handed to the caller's future
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        outcomes.append((job, None, error))
                        continue
                    conn.execute("RELEASE job")
                    outcomes.append((job, result, None))
        except BaseException as error:  # the commit failed: every job in it did
            return _Done(0, [(job, None, error) for job in group])
        return _Done(commit.ticket, outcomes)

    def _sync_loop(self) -> None:
        while True:
            done = self._done.get()
            if done is None:
                return
            sync_error: BaseException | None = None
            if done.ticket:
                try:
                    self._db.wal_sync.wait(done.ticket)
                except BaseException as error:  # not durable: fail every write of the group
                    sync_error = error
            _complete(done, sync_error)


def _complete(done: _Done, sync_error: BaseException | None) -> None:
    for job, result, job_error in done.outcomes:
        failure = job_error or sync_error
        if failure is not None:
            job.future.set_exception(failure)
            continue
        if job.after is not None:
            try:
                job.after(result)
            except Exception:
                # The write is durable; a follow-up that failed (a wake-up after shutdown) must not
                # leave this caller, the rest of the group, or the syncer thread waiting for ever.
                log.exception("a follow-up of a committed write failed")
        job.future.set_result(result)
