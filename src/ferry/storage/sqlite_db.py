"""One SQLite database file shared by the stores of a region (WAL, one connection per thread).

The metadata store and the replication store live in the same file so a
version and the replication work it causes commit in one transaction.

Durability is a group commit: every connection runs with ``synchronous=NORMAL``
(a commit writes its WAL frames but does not fsync them), and a durable write
then waits for one fsync of the WAL that covers every commit finished before it
started.  With many writers in flight, one fsync makes dozens of commits
durable; alone, a writer pays exactly what ``synchronous=FULL`` would.  Writers
of one process queue on a Python lock rather than SQLite's busy handler, which
sleeps for milliseconds when it finds the database locked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WalSync:
    """Makes commits durable, one fsync of the WAL for all commits that finished before it."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._wal_path = Path(str(db_path) + "-wal")
        self._cond = threading.Condition()
        self._committed = 0
        self._synced = 0
        self._syncing = False

    def committed(self) -> int:
        """Call right after a COMMIT, under the writer lock: the ticket to wait for."""
        with self._cond:
            self._committed += 1
            return self._committed

    def wait(self, ticket: int) -> None:
        """Return once the commit behind ``ticket`` is on stable storage."""
        with self._cond:
            while self._synced < ticket:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                covered = self._committed
                self._cond.release()
                try:
                    self._fsync()
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                # Reached only when the fsync succeeded; a failure propagates and the next waiter retries.
                self._synced = max(self._synced, covered)

    def _fsync(self) -> None:
        try:
            fd = os.open(self._wal_path, os.O_RDONLY)
        except FileNotFoundError:
            # No WAL: its frames were checkpointed into the database file (and synced there).
            fd = os.open(self._db_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Committed:
    """Filled in when a transaction commits: the ticket to wait for durability with."""

    ticket: int = 0


class _Shared:
    """What every SqliteDatabase of one file in this process shares."""

    def __init__(self, path: Path) -> None:
        self.writer = threading.Lock()
        self.sync = WalSync(path)


_SHARED: dict[Path, _Shared] = {}
_SHARED_LOCK = threading.Lock()


def _shared_for(path: Path) -> _Shared:
    key = path.resolve()
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _Shared(key)
        return shared


class SqliteDatabase:
    def __init__(self, path: Path, *, durable: bool = True) -> None:
        """``durable``: a write returns only once its commit survives a power loss; without
        it a write survives a killed process (the WAL frames are written) but not a crash
        of the machine — for bookkeeping that is safe to redo."""
        self.path = path
        self._durable = durable
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._shared = _shared_for(path)

    @property
    def durable(self) -> bool:
        return self._durable

    @property
    def wal_sync(self) -> WalSync:
        return self._shared.sync

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def executescript(self, script: str) -> None:
        # executescript() manages its own transaction.
        with self._shared.writer:
            self.conn().executescript(script)

    @contextmanager
    def transaction(self, conn: sqlite3.Connection) -> Iterator[Committed]:
        """A write transaction on ``conn`` that does not wait for durability: the caller
        waits for ``wal_sync`` with the ticket it finds in the yielded value after the block."""
        committed = Committed()
        with self._shared.writer:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield committed
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            committed.ticket = self._shared.sync.committed()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``BEGIN IMMEDIATE`` takes the lock up front so a
        read-modify-write never interleaves with another writer (of another process)."""
        db = self.conn()
        with self.transaction(db) as committed:
            yield db
        if self._durable:
            self._shared.sync.wait(committed.ticket)

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
