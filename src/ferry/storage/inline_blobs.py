"""Small objects' bytes kept in the metadata database instead of one file each.

Creating, fsyncing and renaming a file costs more kernel time than everything
else a small PUT does; an inline blob is a row written in the same transaction
as its version, made durable by the same (grouped) WAL fsync.  The metadata
store owns these rows: it inserts one with its version and deletes it when no
version refers to it any more, inside the same transaction, so an inline blob
can neither leak nor vanish under a version.
"""

from __future__ import annotations

import uuid

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


class InlineBlobReader:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def get(self, blob_id: str) -> bytes:
        query = "SELECT data FROM inline_blobs WHERE blob_id = ?"
        row = self._db.conn().execute(query, (blob_id,)).fetchone()
        if row is None:
            # Like a disk blob unlinked under a reader: the caller may read the key again.
            raise FileNotFoundError(f"inline blob {blob_id} is missing")
        return bytes(row[0])
