"""The destination goes away and comes back: the backlog drains, nothing is dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import oss2
import psutil
import pytest
from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import DST, SRC, exists, listing, wait_until


@pytest.fixture
def lone_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path).start_each()
    try:
        yield cluster
    finally:
        cluster.stop()


def _pair(cluster: FerryCluster) -> tuple[oss2.Bucket, oss2.Bucket]:
    src = cluster.oss2_bucket(unique_bucket("out-src"), region=SRC)
    dst = cluster.oss2_bucket(unique_bucket("out-dst"), region=DST)
    src.create_bucket()
    dst.create_bucket()
    src.put_bucket_replication(
        ReplicationRule(target_bucket_name=dst.bucket_name, target_bucket_location=DST)
    )
    return src, dst


def test_backlog_drains_after_destination_returns(lone_cluster: FerryCluster) -> None:
    src, dst = _pair(lone_cluster)
    source_process = psutil.Process(lone_cluster.singles[SRC].pid)
    lone_cluster.kill_region(DST)
    rss_before = source_process.memory_info().rss
    expected = {}
    for i in range(400):
        result = src.put_object(f"backlog/{i:04d}", f"object {i}".encode() * 100)
        expected[f"backlog/{i:04d}"] = result.etag
    statuses = {src.head_object(k).headers.get("x-oss-replication-status") for k in list(expected)[:20]}
    assert statuses <= {"PENDING", "FAILED"}
    rss_growth = source_process.memory_info().rss - rss_before
    print(f"source RSS growth with 400 queued objects: {rss_growth / 2**20:.1f} MiB")
    assert rss_growth < 64 * 2**20  # the backlog lives in the database, not in memory

    lone_cluster.start_region(DST)
    # Tasks that already reached the FAILED state wait for their capped backoff; the operator
    # command makes them due at once.
    subprocess.run(
        [sys.executable, "-m", "ferry", "replication", "retry", "--config", str(lone_cluster.config_path)],
        env=lone_cluster.env,
        check=True,
        capture_output=True,
    )
    wait_until(lambda: listing(dst) == expected, timeout=90, what="the backlog to drain")


def test_failed_tasks_are_visible_and_replayable(lone_cluster: FerryCluster) -> None:
    src, dst = _pair(lone_cluster)
    dst_name = dst.bucket_name
    dst.delete_bucket()  # the destination refuses every replica (NoSuchBucket)
    src.put_object("waiting", b"w")
    wait_until(
        lambda: src.head_object("waiting").headers.get("x-oss-replication-status") == "FAILED",
        timeout=30,
        what="the task to show FAILED",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ferry",
            "replication",
            "status",
            "--json",
            "--config",
            str(lone_cluster.config_path),
        ],
        env=lone_cluster.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [row for row in json.loads(out) if row["bucket"] == src.bucket_name]
    assert [(row["pending"], row["failed"]) for row in rows] == [(0, 1)]
    dst = lone_cluster.oss2_bucket(dst_name, region=DST)
    dst.create_bucket()
    subprocess.run(
        [sys.executable, "-m", "ferry", "replication", "retry", "--config", str(lone_cluster.config_path)],
        env=lone_cluster.env,
        check=True,
        capture_output=True,
    )
    wait_until(lambda: exists(dst, "waiting"), timeout=30, what="the replayed task")
    wait_until(lambda: src.head_object("waiting").headers.get("x-oss-replication-status") == "COMPLETED")


def test_superseded_changes_add_no_lag_samples(lone_cluster: FerryCluster) -> None:
    """Overwrites made while the destination is away reach it as the last one: only that change
    was replicated, so the lag records (and RTC's "within" counts) hold one sample, not five."""
    src, dst = _pair(lone_cluster)
    lone_cluster.kill_region(DST)
    for n in range(5):
        src.put_object("again", f"take {n}".encode())
    lone_cluster.start_region(DST)
    subprocess.run(
        [sys.executable, "-m", "ferry", "replication", "retry", "--config", str(lone_cluster.config_path)],
        env=lone_cluster.env,
        check=True,
        capture_output=True,
    )
    wait_until(lambda: exists(dst, "again") and dst.get_object("again").read() == b"take 4", timeout=60)

    status = [sys.executable, "-m", "ferry", "replication", "status", "--json"]

    def lag_count() -> int:
        out = subprocess.run(
            [*status, "--config", str(lone_cluster.config_path)],
            env=lone_cluster.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (row,) = [row for row in json.loads(out) if row["bucket"] == src.bucket_name]
        return int(row["lag"]["count"]) if row["pending"] == 0 else -1

    wait_until(lambda: lag_count() >= 1, timeout=60, what="the queue to empty")
    assert lag_count() == 1
