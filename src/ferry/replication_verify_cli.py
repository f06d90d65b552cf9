"""``ferry replication verify``: is everything a rule should have copied at the destination?"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ferry.config import FerryConfig
from ferry.core.clock import SystemClock
from ferry.core.replication_rules import RuleStatus
from ferry.replication.verify import RuleScope, Verifier, VerifyResult
from ferry.replication_cli import open_region, regions_of, when
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_queue_stats import SqliteQueueStats
from ferry.storage.sqlite_replication import SqliteReplicationStore, StoredRule
from ferry.storage.sqlite_tasks import SqliteTaskQueue
from ferry.storage.sqlite_verifications import SqliteVerifications, count_versions

SHOWN_DIFFERENCES = 20


def _find_rule(config: FerryConfig, region: str | None, bucket: str, rule_id: str) -> tuple[str, StoredRule]:
    for name in regions_of(config, region):
        db = open_region(config, name)
        if db is None:
            continue
        for stored in SqliteReplicationStore(db).list_rules(bucket):
            if stored.rule.rule_id == rule_id:
                return name, stored
    raise typer.BadParameter(f"no replication rule {rule_id!r} on a bucket {bucket!r}")


def verify(
    config: FerryConfig,
    region: str | None,
    bucket: str,
    rule_id: str,
    *,
    repair: bool = False,
    delete_extra: bool = False,
    as_json: bool = False,
) -> int:
    """Compare, print a summary, record the outcome, queue fixes when asked; 0 when consistent."""
    source_region, stored = _find_rule(config, region, bucket, rule_id)
    rule = stored.rule
    clock = SystemClock()
    source = SqliteMetadataStore(config.region(source_region).data_dir / "meta.sqlite3")
    dest = SqliteMetadataStore(config.region(rule.dest_location).data_dir / "meta.sqlite3")
    rules = SqliteReplicationStore(source.db)
    stats = SqliteQueueStats(source.db)
    started = clock.now()
    scope = RuleScope(bucket, rule.dest_bucket, rule, rules.start_seq(bucket, rule_id))
    verifier = Verifier(source, dest, scope, lambda key: stats.pending_for_key(bucket, rule_id, key), started)
    total = sum(count_versions(source.db, bucket, p) for p in rule.prefixes or ("",))
    console = Console(stderr=as_json)
    with Progress(
        TextColumn("[bold]verifying[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as progress:
        task = progress.add_task(f"{bucket} → {rule.dest_location}/{rule.dest_bucket}", total=total)
        result = verifier.run(lambda n: progress.update(task, completed=n))
        progress.update(task, completed=total)
    fixes = [
        d.repair for d in result.differences if d.repair is not None and (delete_extra or d.kind != "extra")
    ]
    queued = SqliteTaskQueue(source.db).enqueue_repairs(bucket, rule_id, fixes, clock.now()) if repair else 0
    consistent_up_to = _consistent_up_to(result, rules, stats, bucket, rule_id, rule.historical_enabled)
    SqliteVerifications(source.db).record(
        bucket,
        rule_id,
        checked_at=started,
        compared=result.compared,
        differences=len(result.differences),
        repairs_queued=queued,
        consistent_up_to=consistent_up_to,
    )
    if as_json:
        document = {
            **asdict(result),
            "consistent": result.consistent,
            "consistent_up_to": consistent_up_to,
            "repairs_queued": queued,
        }
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        _print_summary(console, result, queued, consistent_up_to, repair, rule.status)
    return 0 if result.consistent else 1


def _consistent_up_to(
    result: VerifyResult,
    rules: SqliteReplicationStore,
    stats: SqliteQueueStats,
    bucket: str,
    rule_id: str,
    historical: bool,
) -> float | None:
    """Every change committed before this time is at the destination (None: no such claim)."""
    if not result.consistent:
        return None
    if historical:
        backfill = stats.backfill(bucket, rule_id)
        if backfill is None and rules.start_seq(bucket, rule_id) > 0:
            return None  # the backfill has not started yet
        if backfill is not None and (not backfill.scanned or backfill.left):
            return None  # historical objects are still on their way
    oldest = rules.oldest_pending_change(bucket, rule_id)
    return result.started_at if oldest is None else min(result.started_at, oldest)


def _print_summary(
    console: Console,
    result: VerifyResult,
    queued: int,
    consistent_up_to: float | None,
    repair: bool,
    status: RuleStatus,
) -> None:
    kinds = Counter(d.kind for d in result.differences)
    summary = Table(title="Verification", show_header=False)
    summary.add_row("source versions compared", str(result.compared))
    summary.add_row("differences", str(len(result.differences)))
    for kind, count in sorted(kinds.items()):
        summary.add_row(f"  {kind}", str(count))
    summary.add_row("still being replicated (not counted)", str(result.in_flight))
    summary.add_row("only at the destination, left alone", str(result.kept_at_destination))
    if repair:
        summary.add_row("repairs queued", str(queued))
    summary.add_row("consistent up to", when(consistent_up_to) if consistent_up_to else "-")
    summary.add_row("rule status", status.value)
    console.print(summary)
    if result.differences:
        table = Table(title=f"Differences (first {SHOWN_DIFFERENCES})")
        for column in ("key", "version", "kind", "detail", "repair"):
            table.add_column(column)
        for d in result.differences[:SHOWN_DIFFERENCES]:
            fix = "-" if d.repair is None else d.repair.kind.value
            table.add_row(d.key, d.version_id, d.kind, d.detail, fix)
        console.print(table)
    unfixable = sum(1 for d in result.differences if d.repair is None)
    if unfixable:
        console.print(f"[red]{unfixable} difference(s) cannot be fixed by replicating again[/] (see detail).")
