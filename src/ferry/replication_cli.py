"""``ferry replication ...``: operate the replication queue of the regions in a config."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ferry.config import FerryConfig
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_replication import SqliteReplicationStore
from ferry.storage.sqlite_tasks import SqliteTaskQueue

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and operate replication.")


def _regions(config: FerryConfig, region: str | None) -> list[str]:
    return [region] if region else [r.name for r in config.regions]


def _open(config: FerryConfig, region: str) -> tuple[SqliteReplicationStore, SqliteTaskQueue] | None:
    path = config.region(region).data_dir / "meta.sqlite3"
    if not path.exists():
        return None
    db = SqliteDatabase(path)
    rules = SqliteReplicationStore(db)
    return rules, SqliteTaskQueue(db)


def retry(config: FerryConfig, region: str | None, bucket: str | None) -> int:
    """Make FAILED tasks due now; a running region picks them up within a fraction of a second."""
    total = 0
    for name in _regions(config, region):
        opened = _open(config, name)
        if opened is None:
            continue
        count = opened[1].retry_failed(bucket)
        typer.echo(f"{name}: {count} failed task(s) queued again")
        total += count
    return total


@dataclass(frozen=True)
class RuleRow:
    region: str
    bucket: str
    rule: str
    destination: str
    status: str
    pending: int
    failed: int
    historical: float | None


def rule_rows(config: FerryConfig, region: str | None, bucket: str | None) -> list[RuleRow]:
    rows = []
    for name in _regions(config, region):
        opened = _open(config, name)
        if opened is None:
            continue
        rules, queue = opened
        for stored in rules.all_rules():
            if bucket and stored.bucket != bucket:
                continue
            counts = queue.counts(stored.bucket, stored.rule.rule_id)
            fraction = rules.historical_fraction(stored.bucket, stored.rule.rule_id)
            rows.append(
                RuleRow(
                    region=name,
                    bucket=stored.bucket,
                    rule=stored.rule.rule_id,
                    destination=f"{stored.rule.dest_location}/{stored.rule.dest_bucket}",
                    status=stored.rule.status.value,
                    pending=counts.pending,
                    failed=counts.failed,
                    historical=fraction if stored.rule.historical_enabled else None,
                )
            )
    return rows


def status(config: FerryConfig, region: str | None, bucket: str | None, as_json: bool = False) -> None:
    rows = rule_rows(config, region, bucket)
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    table = Table(title="Replication rules")
    for column in ("region", "bucket", "rule", "destination", "status", "pending", "failed", "historical"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.region,
            row.bucket,
            row.rule,
            row.destination,
            row.status,
            str(row.pending),
            str(row.failed),
            "off" if row.historical is None else f"{row.historical:.0%}",
        )
    Console().print(table)


RegionOption = Annotated[str | None, typer.Option("--region", help="Only this region.")]
BucketOption = Annotated[str | None, typer.Option("--bucket", help="Only this source bucket.")]
