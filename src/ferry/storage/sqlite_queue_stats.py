"""Read-only numbers about the replication queue, for reports and metrics (never for decisions)."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.storage.sqlite_db import SqliteDatabase


@dataclass(frozen=True)
class RuleQueue:
    pending: int
    """Tasks not yet at the destination (retrying ones included), FAILED ones excluded."""
    pending_bytes: int
    """Bytes of the versions those pending tasks will copy (deletes count none)."""
    failed: int
    overdue: int
    """Non-historical tasks, FAILED or not, committed before the ``overdue_before`` asked about."""


@dataclass(frozen=True)
class Backfill:
    total: int
    done: int
    scanned: bool
    """The scan reached the end of what existed when the rule was taken."""
    left: int
    """Historical copies still queued."""


@dataclass(frozen=True)
class QueueDepth:
    pending: int
    failed: int
    leased: int


class SqliteQueueStats:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def rule_queue(self, bucket: str, rule_id: str, overdue_before: float) -> RuleQueue:
        row = (
            self.db.conn()
            .execute(
                "SELECT count(*) AS n, coalesce(sum(t.state = 'failed'), 0) AS failed, "
                "coalesce(sum(CASE WHEN t.state = 'pending' AND t.kind = 'put' THEN v.size END), 0) "
                "AS bytes, "
                "coalesce(sum(t.historical = 0 AND t.created_at < ?), 0) AS overdue "
                "FROM replication_tasks t LEFT JOIN versions v "
                "ON v.bucket = t.bucket AND v.key = t.key AND v.version_id = t.version_id "
                "WHERE t.bucket = ? AND t.rule_id = ?",
                (overdue_before, bucket, rule_id),
            )
            .fetchone()
        )
        failed = int(row["failed"])
        return RuleQueue(
            pending=int(row["n"]) - failed,
            pending_bytes=int(row["bytes"]),
            failed=failed,
            overdue=int(row["overdue"]),
        )

    def backfill(self, bucket: str, rule_id: str) -> Backfill | None:
        db = self.db.conn()
        row = db.execute(
            "SELECT cursor_seq, end_seq, total, done FROM replication_backfill "
            "WHERE bucket = ? AND rule_id = ?",
            (bucket, rule_id),
        ).fetchone()
        if row is None:
            return None
        left = db.execute(
            "SELECT count(*) AS n FROM replication_tasks WHERE bucket = ? AND rule_id = ? AND historical = 1",
            (bucket, rule_id),
        ).fetchone()
        return Backfill(
            total=int(row["total"]),
            done=int(row["done"]),
            scanned=row["cursor_seq"] >= row["end_seq"],
            left=int(left["n"]),
        )

    def pending_for_key(self, bucket: str, rule_id: str, key: str) -> int:
        """Tasks of the rule still queued for one key (their change may not be at the destination yet)."""
        row = (
            self.db.conn()
            .execute(
                "SELECT count(*) AS n FROM replication_tasks WHERE bucket = ? AND rule_id = ? AND key = ?",
                (bucket, rule_id, key),
            )
            .fetchone()
        )
        return int(row["n"])

    def depth(self, now: float) -> QueueDepth:
        row = (
            self.db.conn()
            .execute(
                "SELECT coalesce(sum(state = 'pending'), 0) AS pending, "
                "coalesce(sum(state = 'failed'), 0) AS failed, coalesce(sum(lease_until > ?), 0) AS leased "
                "FROM replication_tasks",
                (now,),
            )
            .fetchone()
        )
        return QueueDepth(int(row["pending"]), int(row["failed"]), int(row["leased"]))
