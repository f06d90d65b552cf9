"""The metrics a region process records as it works, in a registry of its own.

Hot-path cost: a request is one counter increment and one histogram observation
on children looked up once per label set and cached (``prometheus_client``'s own
locks are the only ones taken).  Numbers that live in the database (pending
work, backfill progress) are read when scraped, by :mod:`replication_collector`.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

from ferry.core.replication_task import ReplicationTask

REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# ``*_created`` samples (one per label set) only double the page; Prometheus does not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]

LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0)


class FerryMetrics:
    """Implements the engine's :class:`~ferry.replication.observer.ReplicationObserver`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self._requests = Counter(
            "ferry_http_requests", "HTTP requests by API and status code.", ["api", "code"], registry=r
        )
        self._latency = Histogram(
            "ferry_http_request_duration_seconds",
            "Time from the request's arrival to the last byte of its response, by API.",
            ["api"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        rule = ["bucket", "rule"]
        self._replicated = Counter(
            "ferry_replication_replicated_operations",
            "Changes the destination confirmed (historical copies included), by source bucket and rule.",
            rule,
            registry=r,
        )
        self._replicated_bytes = Counter(
            "ferry_replication_replicated_bytes", "Object bytes sent to the destination.", rule, registry=r
        )
        self._attempts_failed = Counter(
            "ferry_replication_failed_attempts",
            "Replication attempts that failed (each is retried).",
            rule,
            registry=r,
        )
        self._lag = Histogram(
            "ferry_replication_lag_seconds",
            "From the source commit to the destination's confirmation (historical copies excluded).",
            rule,
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self._request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._rule_children: dict[tuple[str, str], tuple[Counter, Counter, Histogram]] = {}

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # --- requests -------------------------------------------------------------

    def request(self, api: str, status: int, seconds: float) -> None:
        children = self._request_children.get((api, status))
        if children is None:
            children = (self._requests.labels(api, str(status)), self._latency.labels(api))
            self._request_children[(api, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    # --- replication (the engine's observer) ---------------------------------------

    def _rule(self, task: ReplicationTask) -> tuple[Counter, Counter, Histogram]:
        key = (task.bucket, task.rule_id)
        children = self._rule_children.get(key)
        if children is None:
            children = (
                self._replicated.labels(*key),
                self._replicated_bytes.labels(*key),
                self._lag.labels(*key),
            )
            self._rule_children[key] = children
        return children

    def replicated(self, task: ReplicationTask, nbytes: int, lag_seconds: float | None) -> None:
        ops, sent, lag = self._rule(task)
        ops.inc()
        if nbytes:
            sent.inc(nbytes)
        if lag_seconds is not None:
            lag.observe(max(0.0, lag_seconds))

    def failed(self, task: ReplicationTask) -> None:
        self._attempts_failed.labels(task.bucket, task.rule_id).inc()
