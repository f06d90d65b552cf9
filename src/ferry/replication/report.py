"""One region's replication rules as an operator sees them: the status command, the console, metrics.

Everything is read from the region's database, so a report made by another
process (``ferry replication status``) says what the running region would.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.core.clock import Clock
from ferry.core.replication_rules import RuleStatus
from ferry.replication.rtc import RTC_WINDOW_SECONDS, RtcReport, rtc_report
from ferry.replication.settings import EngineSettings
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_lag import LagPoint, LagStats, SqliteLagLog
from ferry.storage.sqlite_queue_stats import Backfill, SqliteQueueStats
from ferry.storage.sqlite_replication import SqliteReplicationStore, StoredRule
from ferry.storage.sqlite_verifications import SqliteVerifications, Verification


@dataclass(frozen=True)
class BackfillReport:
    enabled: bool
    total: int
    done: int
    fraction: float
    """What GetBucketReplicationProgress reports as HistoricalObject."""

    @property
    def running(self) -> bool:
        return self.enabled and self.fraction < 1.0


@dataclass(frozen=True)
class RuleReport:
    region: str
    bucket: str
    rule_id: str
    dest_location: str
    dest_bucket: str
    status: str
    prefixes: tuple[str, ...]
    pending: int
    pending_bytes: int
    failed: int
    lag: LagStats
    """Of the changes replicated in the last hour."""
    new_object_time: float | None
    """NewObject: every change committed before it is at the destination (None: not started)."""
    backfill: BackfillReport
    rtc: RtcReport
    verification: Verification | None


class ReplicationReporter:
    def __init__(self, region: str, db: SqliteDatabase, clock: Clock, settings: EngineSettings) -> None:
        self.region = region
        self.rules = SqliteReplicationStore(db)
        self.stats = SqliteQueueStats(db)
        self.lag = SqliteLagLog(db)
        self.verifications = SqliteVerifications(db)
        self._clock = clock
        self._settings = settings

    def reports(self, bucket: str | None = None) -> list[RuleReport]:
        stored = self.rules.list_rules(bucket) if bucket else self.rules.all_rules()
        return [self.report(s) for s in stored]

    def report(self, stored: StoredRule) -> RuleReport:
        now = self._clock.now()
        rule, bucket = stored.rule, stored.bucket
        threshold = self._settings.rtc_threshold_seconds
        since = now - RTC_WINDOW_SECONDS
        queue = self.stats.rule_queue(bucket, rule.rule_id, overdue_before=now - threshold)
        within, late = self.lag.within(bucket, rule.rule_id, since, threshold)
        verification = self.verifications.latest(bucket, rule.rule_id)
        if verification is not None and verification.checked_at < stored.created_at:
            verification = None  # about an earlier rule of the same ID
        started = rule.status is not RuleStatus.STARTING
        oldest = self.rules.oldest_pending_change(bucket, rule.rule_id)
        return RuleReport(
            region=self.region,
            bucket=bucket,
            rule_id=rule.rule_id,
            dest_location=rule.dest_location,
            dest_bucket=rule.dest_bucket,
            status=rule.status.value,
            prefixes=rule.prefixes,
            pending=queue.pending,
            pending_bytes=queue.pending_bytes,
            failed=queue.failed,
            lag=self.lag.stats(bucket, rule.rule_id, since),
            new_object_time=(oldest if oldest is not None else now) if started else None,
            backfill=self._backfill(bucket, rule.rule_id, rule.historical_enabled),
            rtc=rtc_report(rule.rtc_enabled, threshold, within, late, queue.overdue),
            verification=verification,
        )

    def _backfill(self, bucket: str, rule_id: str, enabled: bool) -> BackfillReport:
        backfill: Backfill | None = self.stats.backfill(bucket, rule_id) if enabled else None
        if backfill is None:
            return BackfillReport(enabled=enabled, total=0, done=0, fraction=0.0)
        return BackfillReport(
            enabled=True,
            total=backfill.total,
            done=backfill.done,
            fraction=self.rules.historical_fraction(bucket, rule_id),
        )

    def lag_series(self, bucket: str, rule_id: str, step: float = 60.0) -> list[LagPoint]:
        """The last hour of lag, per ``step`` seconds (the console's chart)."""
        return self.lag.series(bucket, rule_id, self._clock.now() - RTC_WINDOW_SECONDS, step)
