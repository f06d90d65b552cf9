"""A destination down for minutes under steady writes: the source holds the backlog on disk, not
in memory, and once the destination is back the engine drains it by itself (no operator retry),
ending with the destination equal to the source."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import oss2
import psutil
import pytest

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, SRC, listing, make_pair, wait_until

OUTAGE_SECONDS = float(os.environ.get("FERRY_LONG_OUTAGE_SECONDS", "180"))
OPS_PER_SECOND = 40
KEYS = 600


@pytest.fixture
def lone_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path).start_each()
    try:
        yield cluster
    finally:
        cluster.stop()


def _status_rows(cluster: FerryCluster, bucket: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "ferry", "replication", "status", "--json", "--config", cluster.config_path],
        env=cluster.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [row for row in json.loads(out) if row["bucket"] == bucket]


def _write_steadily(src: oss2.Bucket, seconds: float, model: dict[str, str], rng: random.Random) -> int:
    """Puts, overwrites and deletes at OPS_PER_SECOND for ``seconds``; ``model`` follows them."""
    started = time.monotonic()
    ops = 0
    limit = int(seconds * OPS_PER_SECOND)
    while ops < limit and time.monotonic() - started < seconds + 30:
        due = started + ops / OPS_PER_SECOND
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        key = f"steady/{rng.randrange(KEYS):04d}"
        if key in model and rng.random() < 0.25:
            src.delete_object(key)
            del model[key]
        else:
            body = f"{key} op {ops} ".encode() * rng.randint(1, 200)
            model[key] = src.put_object(key, body).etag
        ops += 1
    return ops


@pytest.mark.slow
def test_minutes_long_outage_drains_without_operator(lone_cluster: FerryCluster) -> None:
    pair = make_pair(lone_cluster)
    src, dst = pair.src, pair.dst
    rng = random.Random(20261205)
    model: dict[str, str] = {}
    _write_steadily(src, 5, model, rng)
    wait_until(lambda: listing(dst) == model, timeout=60, what="the first writes to replicate")

    source = psutil.Process(lone_cluster.singles[SRC].pid)
    rss_before = source.memory_info().rss
    lone_cluster.kill_region(DST)
    outage_started = time.monotonic()
    ops = _write_steadily(src, OUTAGE_SECONDS, model, rng)
    outage = time.monotonic() - outage_started
    rss_growth = source.memory_info().rss - rss_before
    backlog = _status_rows(lone_cluster, src.bucket_name)
    print(
        f"outage {outage:.0f} s, {ops} operations ({ops / outage:.1f}/s), {len(model)} live keys; "
        f"source RSS growth {rss_growth / 2**20:.1f} MiB; backlog {backlog}"
    )
    assert ops >= OUTAGE_SECONDS * OPS_PER_SECOND * 0.95
    assert rss_growth < 64 * 2**20  # the backlog is rows in the source's database
    assert sum(int(str(row["pending"])) + int(str(row["failed"])) for row in backlog) > 0

    lone_cluster.start_region(DST)
    back = time.monotonic()
    wait_until(lambda: listing(dst) == model, timeout=300, what="the backlog to drain by itself")
    drained = time.monotonic() - back
    print(f"destination equal to the source {drained:.1f} s after it came back")
    wait_until(
        lambda: all(
            int(str(row["pending"])) + int(str(row["failed"])) == 0
            for row in _status_rows(lone_cluster, src.bucket_name)
        ),
        timeout=60,
        what="the source's queue to empty",
    )
    for key in rng.sample(sorted(model), min(50, len(model))):
        head = src.head_object(key)
        assert head.headers.get("x-oss-replication-status") == "COMPLETED", key
        assert dst.head_object(key).etag == model[key]
