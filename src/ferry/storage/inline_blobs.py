"""Small objects' bytes kept in the metadata database instead of one file each.

Creating, fsyncing and renaming a file costs more kernel time than everything
else a small PUT does; an inline blob is a row written in the same transaction
as its version, made durable by the same (grouped) WAL fsync.  The metadata
store owns these rows: it inserts one with its version and deletes it when no
version refers to it any more, inside the same transaction, so an inline blob
can neither leak nor vanish under a version.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

from ferry.storage.sqlite_db import SqliteDatabase

INLINE_PREFIX = "~"
"""Inline blob ids start with it; disk blob ids are hex and never do."""

INLINE_LIMIT = 64 * 1024
"""Bodies up to this size are stored inline (SQLite reads and writes blobs this small faster
than the file system does)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS inline_blobs (
    blob_id TEXT PRIMARY KEY,
    data    BLOB NOT NULL
);
"""


def is_inline(blob_id: str) -> bool:
    return blob_id.startswith(INLINE_PREFIX)


def new_inline_id() -> str:
    return INLINE_PREFIX + uuid.uuid4().hex


CACHE_BYTES = 16 * 1024 * 1024
"""What the reader keeps of recently read inline blobs."""


class InlineBlobReader:
    """Reads inline blobs, keeping the recently read ones in memory.

    The cache needs no invalidation: a blob id's bytes never change (rows are only inserted
    and deleted), and a reader reaches a blob id through the version row it has just read, so
    a cached blob is at worst one that was deleted after that read -- the same answer a read
    racing the delete would give.
    """

    def __init__(self, db: SqliteDatabase, cache_bytes: int = CACHE_BYTES) -> None:
        self._db = db
        self._budget = cache_bytes
        self._cached: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def get(self, blob_id: str) -> bytes:
        with self._lock:
            data = self._cached.get(blob_id)
            if data is not None:
                self._cached.move_to_end(blob_id)
                return data
        query = "SELECT data FROM inline_blobs WHERE blob_id = ?"
        row = self._db.conn().execute(query, (blob_id,)).fetchone()
        if row is None:
            # Like a disk blob unlinked under a reader: the caller may read the key again.
            raise FileNotFoundError(f"inline blob {blob_id} is missing")
        data = bytes(row[0])
        self._remember(blob_id, data)
        return data

    def _remember(self, blob_id: str, data: bytes) -> None:
        if len(data) > self._budget:
            return
        with self._lock:
            if blob_id in self._cached:
                return
            self._cached[blob_id] = data
            self._cached_bytes += len(data)
            while self._cached_bytes > self._budget:
                _, dropped = self._cached.popitem(last=False)
                self._cached_bytes -= len(dropped)
