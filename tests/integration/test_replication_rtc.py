"""RTC: an RTC rule's changes go ahead of a large backfill, and its lag is recorded per object."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import alibabacloud_oss_v2 as oss
import pytest
from oss2.models import ReplicationRule

from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_lag import SqliteLagLog, percentile
from ferry.storage.sqlite_queue_stats import SqliteQueueStats
from tests.integration.bulk_fill import fill_bucket
from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, SRC, exists, wait_until

BACKFILL_OBJECTS = 10_000
RTC_WRITES = 200
RTC_WRITE_INTERVAL = 0.03


@pytest.fixture
def rtc_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path, extra_config="\n[replication]\nrule_settle_seconds = 0.2\n")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _enable_rtc(cluster: FerryCluster, bucket: str, rule_id: str) -> None:
    cluster.v2_client().put_bucket_rtc(
        oss.PutBucketRtcRequest(
            bucket=bucket,
            rtc_configuration=oss.RtcConfiguration(
                rtc=oss.ReplicationTimeControl(status="enabled"), id=rule_id
            ),
        )
    )


def test_rtc_lag_stays_low_while_a_backfill_of_10000_objects_runs(rtc_cluster: FerryCluster) -> None:
    cluster = rtc_cluster
    buckets = {
        name: cluster.oss2_bucket(name, region=region)
        for name, region in (("bf-src", SRC), ("bf-dst", DST), ("rtc-src", SRC), ("rtc-dst", DST))
    }
    for bucket in buckets.values():
        bucket.create_bucket()
    fill_bucket(cluster.data_dir(SRC), "bf-src", BACKFILL_OBJECTS)

    rtc_src, rtc_dst = buckets["rtc-src"], buckets["rtc-dst"]
    rtc_src.put_bucket_replication(
        ReplicationRule(
            rule_id="rtc",
            target_bucket_name="rtc-dst",
            target_bucket_location=DST,
            is_enable_historical_object_replication=False,
        )
    )
    _enable_rtc(cluster, "rtc-src", "rtc")
    buckets["bf-src"].put_bucket_replication(
        ReplicationRule(rule_id="backfill", target_bucket_name="bf-dst", target_bucket_location=DST)
    )
    db = SqliteDatabase(cluster.data_dir(SRC) / "meta.sqlite3")
    stats, lag_log = SqliteQueueStats(db), SqliteLagLog(db)

    def backfill_done() -> int:
        backfill = stats.backfill("bf-src", "backfill")
        return backfill.done if backfill else 0

    wait_until(lambda: backfill_done() >= 200, timeout=60, what="the backfill to be under way")

    started = time.time()
    put_seconds: list[float] = []
    for i in range(RTC_WRITES):
        t0 = time.monotonic()
        rtc_src.put_object(f"rtc/{i:04d}", b"r" * 2048)
        put_seconds.append(time.monotonic() - t0)
        time.sleep(RTC_WRITE_INTERVAL)
    put_seconds.sort()
    put_p50, put_p99 = percentile(put_seconds, 0.5), percentile(put_seconds, 0.99)
    print(f"source PUT latency meanwhile: p50 {put_p50 * 1000:.1f} ms, p99 {put_p99 * 1000:.1f} ms")
    wait_until(lambda: exists(rtc_dst, f"rtc/{RTC_WRITES - 1:04d}"), timeout=30, what="the last RTC object")
    done_when_rtc_finished = backfill_done()
    # The RTC writes were all made while the backfill was running, not after it.
    assert done_when_rtc_finished < BACKFILL_OBJECTS

    wait_until(
        lambda: len(lag_log.samples("rtc-src", "rtc", started - 1)) == RTC_WRITES,
        timeout=30,
        what="a lag record per RTC object",
    )
    samples = lag_log.samples("rtc-src", "rtc", started - 1)
    assert {s.key for s in samples} == {f"rtc/{i:04d}" for i in range(RTC_WRITES)}
    assert all(s.rtc for s in samples)
    lags = sorted(s.lag for s in samples)
    p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
    print(
        f"RTC lag under a {BACKFILL_OBJECTS}-object backfill: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms"
    )
    assert p99 < 0.100, f"RTC p99 lag {p99 * 1000:.1f} ms (p50 {p50 * 1000:.1f} ms)"

    # The backfill went through the engine to the end meanwhile: every object is at the destination.
    wait_until(lambda: backfill_done() == BACKFILL_OBJECTS, timeout=240, what="the backfill to finish")
    progress = buckets["bf-src"].get_bucket_replication_progress("backfill").progress
    assert progress.historical_object_progress == 1.0
    assert exists(buckets["bf-dst"], f"old/{BACKFILL_OBJECTS - 1:05d}")
    assert lag_log.samples("bf-src", "backfill", 0) == []  # historical copies have no lag record
