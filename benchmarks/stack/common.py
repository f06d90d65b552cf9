"""Shared storage logic for the stack-comparison apps (mimics Ferry's GET/PUT path).

Configured by environment variables (set by compare.py):
  FERRY_BENCH_DATA    data dir holding meta.sqlite, objects/, tmp/
  FERRY_BENCH_LOOKUP  direct | thread | lru   (how the metadata row is fetched)
  FERRY_BENCH_FSYNC   1 | 0                   (durable PUT or not)
  FERRY_BENCH_TAG     name used for the lifespan-shutdown marker file

Every stack's app calls the same functions here, so the only thing that differs
between stacks is the HTTP server and the app interface glue.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import threading
import time
from typing import Any

DATA = os.environ.get("FERRY_BENCH_DATA", "")
LOOKUP = os.environ.get("FERRY_BENCH_LOOKUP", "direct")
FSYNC = os.environ.get("FERRY_BENCH_FSYNC", "1") == "1"
TAG = os.environ.get("FERRY_BENCH_TAG", "app")
DB_PATH = os.path.join(DATA, "meta.sqlite")
CHUNK = 1024 * 1024

_SQL_GET = "SELECT size, etag, path FROM objects WHERE key = ?"
_SQL_PUT = "INSERT OR REPLACE INTO objects (key, size, etag, path) VALUES (?, ?, ?, ?)"

_tls = threading.local()


def _reader() -> sqlite3.Connection:
    """Per-thread read connection (sqlite3 objects must not cross threads)."""
    conn = getattr(_tls, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        _tls.conn = conn
    return conn


def lookup_sync(key: str) -> tuple[int, str, str] | None:
    return _reader().execute(_SQL_GET, (key,)).fetchone()


@functools.lru_cache(maxsize=4096)
def lookup_cached(key: str) -> tuple[int, str, str] | None:
    return lookup_sync(key)


if LOOKUP == "direct":

    async def lookup(key: str) -> tuple[int, str, str] | None:
        return lookup_sync(key)

elif LOOKUP == "thread":

    async def lookup(key: str) -> tuple[int, str, str] | None:
        return await asyncio.to_thread(lookup_sync, key)

elif LOOKUP == "lru":

    async def lookup(key: str) -> tuple[int, str, str] | None:
        return lookup_cached(key)

else:  # pragma: no cover - configuration error
    raise RuntimeError(f"unknown FERRY_BENCH_LOOKUP={LOOKUP!r}")


def read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- PUT path
_wlock = threading.Lock()
_wconn: sqlite3.Connection | None = None


def _writer() -> sqlite3.Connection:
    global _wconn
    if _wconn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA synchronous = %s" % ("FULL" if FSYNC else "NORMAL"))
        _wconn = conn
    return _wconn


def put_sync(key: str, body: bytes) -> str:
    """temp file -> (fsync) -> rename -> (fsync dir) -> INSERT row (one writer, autocommit)."""
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    name = hashlib.sha1(key.encode()).hexdigest()
    final_dir = os.path.join(DATA, "objects", "put", name[:2])
    final = os.path.join(final_dir, name)
    tmp = os.path.join(DATA, "tmp", f"{name}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view) :]
        if FSYNC:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, final)
    if FSYNC:
        dfd = os.open(final_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    with _wlock:
        _writer().execute(_SQL_PUT, (key, len(body), etag, final))
    return etag


async def put(key: str, body: bytes) -> str:
    # All blocking PUT I/O (write, fsyncs, rename, commit) runs off the event loop.
    return await asyncio.to_thread(put_sync, key, body)


# ------------------------------------------------- background-worker probe
_bg: dict[str, Any] = {
    "ticks": 0,
    "max_lag": 0.0,
    "lag_sum": 0.0,
    "lag_n": 0,
    "loop": None,
    "thread": None,
    "task": None,
    "started_by": None,
}


async def _bg_worker() -> None:
    """Stands in for a replication worker: a long-running task on the server's loop."""
    loop = asyncio.get_running_loop()
    _bg["loop"] = id(loop)
    _bg["thread"] = threading.get_ident()
    while True:
        t0 = loop.time()
        await asyncio.sleep(0.05)
        lag = loop.time() - t0 - 0.05  # how late the loop woke us
        _bg["max_lag"] = max(_bg["max_lag"], lag)
        _bg["lag_sum"] += lag
        _bg["lag_n"] += 1
        _bg["ticks"] += 1


def start_background(started_by: str) -> None:
    _bg["started_by"] = started_by
    _bg["task"] = asyncio.get_running_loop().create_task(_bg_worker())


async def stop_background() -> None:
    task = _bg.get("task")
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    marker = os.path.join(DATA, f"shutdown_{TAG}.json")
    with open(marker, "w") as f:
        json.dump({"ticks": _bg["ticks"], "clean_cancel": task.cancelled(), "t": time.time()}, f)


def bg_state() -> dict[str, Any]:
    task = _bg.get("task")
    lag, _bg["max_lag"] = _bg["max_lag"], 0.0
    mean_lag = _bg["lag_sum"] / _bg["lag_n"] if _bg["lag_n"] else 0.0
    _bg["lag_sum"], _bg["lag_n"] = 0.0, 0
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = None
    return {
        "bg_started_by": _bg["started_by"],
        "bg_ticks": _bg["ticks"],
        "bg_max_lag_ms": round(lag * 1000, 2),  # since the previous probe
        "bg_mean_lag_ms": round(mean_lag * 1000, 3),
        "bg_alive": bool(task is not None and not task.done()),
        "bg_same_loop_as_request": _bg["loop"] is not None and _bg["loop"] == loop_id,
        "bg_same_thread_as_request": _bg["thread"] == threading.get_ident(),
    }
