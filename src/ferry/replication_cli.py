"""``ferry replication status|retry``: the replication rules of the regions in a config.

Read from each region's database (the command runs where the regions' data
directories are), so it works whether or not the regions are running.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table

from ferry.config import FerryConfig
from ferry.core.clock import SystemClock
from ferry.replication.report import ReplicationReporter, RuleReport
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_tasks import SqliteTaskQueue

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and operate replication.")

RegionOption = Annotated[str | None, typer.Option("--region", help="Only this region.")]
BucketOption = Annotated[str | None, typer.Option("--bucket", help="Only this source bucket.")]


def regions_of(config: FerryConfig, region: str | None) -> list[str]:
    return [region] if region else [r.name for r in config.regions]


def open_region(config: FerryConfig, region: str) -> SqliteDatabase | None:
    """The region's database, or None when the region never ran."""
    path = config.region(region).data_dir / "meta.sqlite3"
    return SqliteDatabase(path) if path.exists() else None


def retry(config: FerryConfig, region: str | None, bucket: str | None) -> int:
    """Make FAILED tasks due now; a running region picks them up within a fraction of a second."""
    total = 0
    for name in regions_of(config, region):
        db = open_region(config, name)
        if db is None:
            continue
        count = SqliteTaskQueue(db).retry_failed(bucket)
        typer.echo(f"{name}: {count} failed task(s) queued again")
        total += count
    return total


def rule_reports(config: FerryConfig, region: str | None, bucket: str | None) -> list[RuleReport]:
    reports: list[RuleReport] = []
    for name in regions_of(config, region):
        db = open_region(config, name)
        if db is not None:
            reports += ReplicationReporter(name, db, SystemClock(), config.engine).reports(bucket)
    return reports


def report_json(report: RuleReport) -> dict[str, Any]:
    document = asdict(report)
    document["rtc"].update(state=report.rtc.state, ratio=report.rtc.ratio, met=report.rtc.met)
    document["backfill"]["running"] = report.backfill.running
    return document


def when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}m"


def _rtc(report: RuleReport) -> str:
    rtc = report.rtc
    if not rtc.enabled:
        return "disabled"
    if rtc.met is None:
        return "enabled\nno writes this hour"
    verdict = "[green]met[/]" if rtc.met else "[red]missed[/]"
    return f"enabled, {verdict}\n{(rtc.ratio or 0) * 100:.2f}% ≤ {seconds(rtc.threshold_seconds)}"


def _historical(report: RuleReport) -> RenderableType:
    backfill = report.backfill
    if not backfill.enabled:
        return "off"
    label = f"{backfill.fraction:.0%} ({backfill.done}/{backfill.total})"
    if not backfill.running:
        return label
    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=1.0, completed=backfill.fraction, width=16), label)
    return grid


def _verified(report: RuleReport) -> str:
    verification = report.verification
    if verification is None:
        return "never"
    last = "" if verification.differences == 0 else f"\n[red]{verification.differences} differences[/]"
    return when(verification.consistent_up_to) + last


def status_table(reports: list[RuleReport]) -> Table:
    table = Table(title="Replication rules", caption="lag: changes replicated in the last hour")
    for column in (
        "region",
        "bucket",
        "rule → destination",
        "status",
        "RTC",
        "pending",
        "failed",
        "lag p50/p90/p99",
        "NewObject",
        "historical",
        "verified up to",
    ):
        table.add_column(column)
    for r in reports:
        lag = "/".join(seconds(v) for v in (r.lag.p50, r.lag.p90, r.lag.p99)) if r.lag.count else "-"
        table.add_row(
            r.region,
            r.bucket,
            f"{r.rule_id} → {r.dest_location}/{r.dest_bucket}",
            r.status,
            _rtc(r),
            f"{r.pending}\n{r.pending_bytes} B",
            f"[red]{r.failed}[/]" if r.failed else "0",
            lag,
            when(r.new_object_time),
            _historical(r),
            _verified(r),
        )
    return table


def status(
    config: FerryConfig,
    region: str | None,
    bucket: str | None,
    *,
    as_json: bool = False,
    watch: bool = False,
    interval: float = 2.0,
    iterations: int | None = None,
) -> None:
    if as_json:
        typer.echo(json.dumps([report_json(r) for r in rule_reports(config, region, bucket)], indent=2))
        return
    console = Console()
    if not watch:
        console.print(status_table(rule_reports(config, region, bucket)))
        return
    shown = 1
    with Live(
        status_table(rule_reports(config, region, bucket)), console=console, auto_refresh=False
    ) as live:
        while iterations is None or shown < iterations:
            time.sleep(interval)
            live.update(status_table(rule_reports(config, region, bucket)), refresh=True)
            shown += 1
