"""The inline blob reader's cache: bounded in bytes, never a substitute for a row never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferry.storage.inline_blobs import SCHEMA, InlineBlobReader
from ferry.storage.sqlite_db import SqliteDatabase


def _db(tmp_path: Path) -> SqliteDatabase:
    db = SqliteDatabase(tmp_path / "m.sqlite3")
    db.conn().executescript(SCHEMA)
    return db


def _put(db: SqliteDatabase, blob_id: str, data: bytes) -> None:
    with db.conn() as conn:
        conn.execute("INSERT INTO inline_blobs (blob_id, data) VALUES (?, ?)", (blob_id, data))


def _delete(db: SqliteDatabase, blob_id: str) -> None:
    with db.conn() as conn:
        conn.execute("DELETE FROM inline_blobs WHERE blob_id = ?", (blob_id,))


def test_a_blob_read_once_is_served_from_memory(tmp_path: Path) -> None:
    db = _db(tmp_path)
    reader = InlineBlobReader(db, cache_bytes=1024)
    _put(db, "~a", b"x" * 100)
    assert reader.get("~a") == b"x" * 100
    _delete(db, "~a")  # a reader that found "~a" in a version row may still get its bytes
    assert reader.get("~a") == b"x" * 100


def test_a_missing_blob_is_file_not_found(tmp_path: Path) -> None:
    reader = InlineBlobReader(_db(tmp_path), cache_bytes=1024)
    with pytest.raises(FileNotFoundError):
        reader.get("~never")


def test_the_cache_keeps_to_its_budget_dropping_the_least_recent(tmp_path: Path) -> None:
    db = _db(tmp_path)
    reader = InlineBlobReader(db, cache_bytes=250)
    for name in "abc":
        _put(db, f"~{name}", name.encode() * 100)
    reader.get("~a")
    reader.get("~b")
    reader.get("~a")  # "~b" is now the least recently read
    reader.get("~c")  # 300 bytes > 250: "~b" goes
    for name in "abc":
        _delete(db, f"~{name}")
    assert reader.get("~a") == b"a" * 100
    assert reader.get("~c") == b"c" * 100
    with pytest.raises(FileNotFoundError):
        reader.get("~b")


def test_a_blob_larger_than_the_budget_is_not_kept(tmp_path: Path) -> None:
    db = _db(tmp_path)
    reader = InlineBlobReader(db, cache_bytes=10)
    _put(db, "~big", b"y" * 11)
    assert reader.get("~big") == b"y" * 11
    _delete(db, "~big")
    with pytest.raises(FileNotFoundError):
        reader.get("~big")
