"""The console's one document: the signed-in account's buckets and their replication rules."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ferry.region import RegionRuntime
from ferry.replication.report import RuleReport

MAX_BUCKETS = 1000
CHART_STEP_SECONDS = 30.0


def overview(rt: RegionRuntime, account_id: str) -> dict[str, Any]:
    """Blocking (SQLite reads): run it in the executor."""
    buckets = rt.store.list_buckets(account_id, "", "", MAX_BUCKETS)
    return {
        "region": rt.config.name,
        "now": rt.clock.now(),
        "rtc_threshold_seconds": rt.ferry.engine.rtc_threshold_seconds,
        "chart_step_seconds": CHART_STEP_SECONDS,
        "buckets": [
            {
                "name": bucket.name,
                "versioning": bucket.versioning.value or "Off",
                "rules": [_rule(rt, report) for report in rt.reporter.reports(bucket.name)],
            }
            for bucket in buckets
        ],
    }


def _rule(rt: RegionRuntime, report: RuleReport) -> dict[str, Any]:
    rtc = report.rtc
    series = rt.reporter.lag_series(report.bucket, report.rule_id, CHART_STEP_SECONDS)
    return {
        "id": report.rule_id,
        "destination": f"{report.dest_location}/{report.dest_bucket}",
        "status": report.status,
        "prefixes": list(report.prefixes),
        "pending": report.pending,
        "pending_bytes": report.pending_bytes,
        "failed": report.failed,
        "lag": asdict(report.lag),
        "new_object_time": report.new_object_time,
        "backfill": {**asdict(report.backfill), "running": report.backfill.running},
        "rtc": {
            "state": rtc.state,
            "threshold_seconds": rtc.threshold_seconds,
            "objects": rtc.objects,
            "within": rtc.within,
            "ratio": rtc.ratio,
            "met": rtc.met,
        },
        "verification": asdict(report.verification) if report.verification else None,
        "series": [asdict(point) for point in series],
    }
