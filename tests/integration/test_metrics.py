"""/metrics after a known workload: the names the issue asks for, with the values the workload implies."""

from __future__ import annotations

import urllib.request

import oss2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, SRC, exists, make_pair, wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(cluster: FerryCluster, region: str = SRC, path: str = "/metrics") -> Samples:
    with urllib.request.urlopen(cluster.region(region).endpoint + path, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_after_a_known_workload(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    rule = {"bucket": pair.src.bucket_name, "rule": pair.rule_id}
    wait_until(lambda: pair.src.get_bucket_replication().rule_list[0].status == "doing", what="the rule")
    before = scrape(cluster)
    sizes = [100, 2000, 30_000, 5]
    for i, size in enumerate(sizes):
        pair.src.put_object(f"m/{i}", b"m" * size)
    pair.src.get_object("m/0").read()
    with pytest.raises(oss2.exceptions.NoSuchKey):
        pair.src.get_object("m/missing")
    wait_until(lambda: all(exists(pair.dst, f"m/{i}") for i in range(len(sizes))), what="the replicas")
    wait_until(
        lambda: value(scrape(cluster), "ferry_replication_pending_operations", **rule) == 0, what="acks"
    )
    after = scrape(cluster)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Requests per API and status, and their latency.
    assert delta("ferry_http_requests_total", api="PutObject", code="200") == len(sizes)
    assert delta("ferry_http_requests_total", api="GetObject", code="200") == 1
    assert delta("ferry_http_requests_total", api="GetObject", code="404") == 1
    assert delta("ferry_http_request_duration_seconds_count", api="PutObject") == len(sizes)
    assert delta("ferry_http_request_duration_seconds_sum", api="PutObject") > 0
    # Replication of this rule: every change, every byte, each with a lag observation.
    assert value(after, "ferry_replication_replicated_operations_total", **rule) == len(sizes)
    assert value(after, "ferry_replication_replicated_bytes_total", **rule) == sum(sizes)
    assert value(after, "ferry_replication_lag_seconds_count", **rule) == len(sizes)
    assert value(after, "ferry_replication_lag_seconds_bucket", le="+Inf", **rule) == len(sizes)
    assert 0 < value(after, "ferry_replication_lag_seconds_sum", **rule) < 10 * len(sizes)
    assert value(after, "ferry_replication_pending_operations", **rule) == 0
    assert value(after, "ferry_replication_pending_bytes", **rule) == 0
    assert value(after, "ferry_replication_failed_operations", **rule) == 0
    assert value(after, "ferry_replication_failed_attempts_total", **rule) == 0
    assert value(after, "ferry_replication_backfill_progress_ratio", **rule) == 1.0
    assert value(after, "ferry_replication_rtc_enabled", **rule) == 0
    assert ("ferry_replication_queue_depth", (("state", "pending"),)) in after
    assert ("ferry_replication_engine_tasks", (("lane", "rtc"), ("state", "claimed"))) in after
    # /-/metrics is the same page; the destination region has its own.
    assert ("ferry_replication_queue_depth", (("state", "failed"),)) in scrape(cluster, SRC, "/-/metrics")
    assert value(scrape(cluster, DST), "ferry_http_requests_total", api="FerryPutReplica", code="200") >= len(
        sizes
    )


def test_pending_then_failed_work_is_counted_while_the_destination_is_missing(cluster: FerryCluster) -> None:
    """A rule whose destination bucket vanished: its change is pending with its bytes, then FAILED."""
    pair = make_pair(cluster)
    rule = {"bucket": pair.src.bucket_name, "rule": pair.rule_id}
    wait_until(lambda: pair.src.get_bucket_replication().rule_list[0].status == "doing", what="the rule")
    pair.dst.delete_bucket()
    pair.src.put_object("stuck", b"s" * 777)
    wait_until(
        lambda: value(scrape(cluster), "ferry_replication_failed_attempts_total", **rule) >= 1,
        what="a failed attempt",
    )
    samples = scrape(cluster)  # retried with backoff: FAILED only after a few attempts (seconds)
    assert value(samples, "ferry_replication_pending_operations", **rule) == 1
    assert value(samples, "ferry_replication_pending_bytes", **rule) == 777
    wait_until(
        lambda: value(scrape(cluster), "ferry_replication_failed_operations", **rule) == 1,
        timeout=30,
        what="the task to show as FAILED",
    )
    samples = scrape(cluster)
    assert value(samples, "ferry_replication_pending_operations", **rule) == 0
    assert value(samples, "ferry_replication_failed_attempts_total", **rule) >= 5
    pair.src.delete_bucket_replication(pair.rule_id)
