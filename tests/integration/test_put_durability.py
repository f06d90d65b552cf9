"""A PUT answered 200 survives kill -9 of the region right after, grouped commits or not.

Writers keep PUTting (small objects, which live inline in the database and commit in
groups, and a few larger ones, which are files) while the region is killed at a random
moment; after a restart every key that was answered 200 reads back with its bytes.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import oss2
import pytest

from tests.integration.harness import REGIONS, FerryCluster, unique_bucket

REGION = REGIONS[0]
WRITERS = 12
KILLS = 3


@pytest.fixture
def lone_region(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path)
    cluster.start_region(REGION)
    try:
        yield cluster
    finally:
        cluster.stop()


def _body(key: str) -> bytes:
    # Every 10th object is larger than the inline limit, so both storage paths are exercised.
    size = 200 * 1024 if hashlib.md5(key.encode()).digest()[0] % 10 == 0 else 4096
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def _write_until_stopped(
    bucket: oss2.Bucket, writer: int, stop: threading.Event, acked: dict[str, str], lock: threading.Lock
) -> None:
    for n in range(100_000):
        if stop.is_set():
            return
        key = f"w{writer}/{n:06d}-{time.monotonic_ns()}"
        try:
            result = bucket.put_object(key, _body(key))
        except (oss2.exceptions.OssError, oss2.exceptions.RequestError, OSError):
            return  # the server died under this request: it was never answered 200
        if result.status == 200:
            with lock:
                acked[key] = result.etag


def test_every_acknowledged_put_survives_kill_9(lone_region: FerryCluster) -> None:
    name = unique_bucket("durable")
    lone_region.oss2_bucket(name).create_bucket()
    acked: dict[str, str] = {}
    lock = threading.Lock()
    rng = random.Random(20261123)
    for cycle in range(KILLS):
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_write_until_stopped,
                args=(lone_region.oss2_bucket(name), w, stop, acked, lock),
                daemon=True,
            )
            for w in range(WRITERS)
        ]
        before = len(acked)
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.8, 2.0))
        lone_region.kill_region(REGION)  # kill -9 while requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acked) > before, f"cycle {cycle}: no PUT was answered before the kill"
        lone_region.start_region(REGION)

    bucket = lone_region.oss2_bucket(name)
    missing, wrong = [], []
    for key, etag in acked.items():
        try:
            got = bucket.get_object(key)
        except oss2.exceptions.NoSuchKey:
            missing.append(key)
            continue
        if got.etag != etag or got.read() != _body(key):
            wrong.append(key)
    print(f"{len(acked)} acknowledged PUTs over {KILLS} kills")
    assert missing == [] and wrong == []
