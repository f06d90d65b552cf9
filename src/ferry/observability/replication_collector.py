"""Replication numbers read from the region's database when ``/metrics`` is scraped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ferry.core.clock import Clock
from ferry.replication.report import ReplicationReporter


class ReplicationCollector(Collector):
    def __init__(
        self,
        reporter: ReplicationReporter,
        clock: Clock,
        lane_depths: Callable[[], dict[str, tuple[int, int]]],
    ) -> None:
        self._reporter = reporter
        self._clock = clock
        self._lane_depths = lane_depths

    def collect(self) -> Iterator[Metric]:
        rule = ["bucket", "rule"]
        gauges = {
            name: GaugeMetricFamily(f"ferry_replication_{name}", text, labels=rule)
            for name, text in (
                ("pending_operations", "Changes not yet at the destination (FAILED ones excluded)."),
                ("pending_bytes", "Object bytes those pending changes will copy."),
                (
                    "failed_operations",
                    "Changes in the FAILED state (still retried; see `ferry replication retry`).",
                ),
                (
                    "backfill_progress_ratio",
                    "Historical objects at the destination (HistoricalObject progress).",
                ),
                ("backfill_objects_total", "Historical objects counted when the rule was taken."),
                ("backfill_objects_done", "Historical objects copied so far."),
                ("new_object_progress_timestamp_seconds", "NewObject: every change before it is replicated."),
                ("lag_p99_seconds", "99th percentile lag of the changes replicated in the last hour."),
                ("rtc_enabled", "1 when Replication Time Control is enabled for the rule."),
                (
                    "rtc_within_threshold_ratio",
                    "Share of the last hour's changes replicated within the RTC threshold.",
                ),
                ("verified_consistent_up_to_timestamp_seconds", "Last `ferry replication verify` proof."),
            )
        }
        for report in self._reporter.reports():
            labels = [report.bucket, report.rule_id]
            gauges["pending_operations"].add_metric(labels, report.pending)
            gauges["pending_bytes"].add_metric(labels, report.pending_bytes)
            gauges["failed_operations"].add_metric(labels, report.failed)
            gauges["rtc_enabled"].add_metric(labels, 1.0 if report.rtc.enabled else 0.0)
            if report.backfill.enabled:
                gauges["backfill_progress_ratio"].add_metric(labels, report.backfill.fraction)
                gauges["backfill_objects_total"].add_metric(labels, report.backfill.total)
                gauges["backfill_objects_done"].add_metric(labels, report.backfill.done)
            if report.new_object_time is not None:
                gauges["new_object_progress_timestamp_seconds"].add_metric(labels, report.new_object_time)
            if report.lag.p99 is not None:
                gauges["lag_p99_seconds"].add_metric(labels, report.lag.p99)
            if report.rtc.enabled and report.rtc.ratio is not None:
                gauges["rtc_within_threshold_ratio"].add_metric(labels, report.rtc.ratio)
            if report.verification is not None and report.verification.consistent_up_to is not None:
                gauges["verified_consistent_up_to_timestamp_seconds"].add_metric(
                    labels, report.verification.consistent_up_to
                )
        yield from gauges.values()
        depth = self._reporter.stats.depth(self._clock.now())
        queue = GaugeMetricFamily(
            "ferry_replication_queue_depth", "Tasks in the durable replication queue.", labels=["state"]
        )
        queue.add_metric(["pending"], depth.pending)
        queue.add_metric(["failed"], depth.failed)
        queue.add_metric(["leased"], depth.leased)
        yield queue
        lanes = GaugeMetricFamily(
            "ferry_replication_engine_tasks",
            "Tasks the engine holds in memory, by lane: waiting for a worker, or claimed in all.",
            labels=["lane", "state"],
        )
        for lane, (waiting, claimed) in self._lane_depths().items():
            lanes.add_metric([lane, "waiting"], waiting)
            lanes.add_metric([lane, "claimed"], claimed)
        yield lanes
