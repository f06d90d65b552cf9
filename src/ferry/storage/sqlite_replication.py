"""Replication rules and incoming-rule registrations, in the region's SQLite database."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ferry.core.replication_rules import (
    ReplicationRule,
    RuleStatus,
    SseKmsStatus,
    Toggle,
    TransferType,
)
from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS replication_rules (
    bucket            TEXT NOT NULL,
    rule_id           TEXT NOT NULL,
    rule              TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        REAL NOT NULL,
    status_changed_at REAL NOT NULL,
    -- The bucket's newest version when the rule was created: the backfill's end.  Anything
    -- later reaches the rule through the outbox, so nothing is copied twice or missed.
    start_seq         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, rule_id)
);
CREATE TABLE IF NOT EXISTS replication_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket          TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    key             TEXT NOT NULL,
    version_id      TEXT NOT NULL,
    source_seq      INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    historical      INTEGER NOT NULL,
    rtc             INTEGER NOT NULL,
    created_at      REAL NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until     REAL NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tasks_due ON replication_tasks (next_attempt_at);
CREATE INDEX IF NOT EXISTS tasks_by_key ON replication_tasks (bucket, rule_id, key, id);
CREATE INDEX IF NOT EXISTS tasks_by_version ON replication_tasks (bucket, source_seq);
CREATE TABLE IF NOT EXISTS replication_backfill (
    bucket     TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    cursor_seq INTEGER NOT NULL,
    end_seq    INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    done       INTEGER NOT NULL,
    PRIMARY KEY (bucket, rule_id)
);
CREATE TABLE IF NOT EXISTS replica_keys (
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    applied_seq INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS incoming_rules (
    dest_bucket   TEXT NOT NULL,
    source_region TEXT NOT NULL,
    source_bucket TEXT NOT NULL,
    rule_id       TEXT NOT NULL,
    PRIMARY KEY (dest_bucket, source_region, source_bucket, rule_id)
);
"""


@dataclass(frozen=True)
class StoredRule:
    bucket: str
    rule: ReplicationRule
    created_at: float
    status_changed_at: float


@dataclass(frozen=True)
class IncomingRule:
    dest_bucket: str
    source_region: str
    source_bucket: str
    rule_id: str


def rule_to_json(rule: ReplicationRule) -> str:
    return json.dumps(
        {
            "rule_id": rule.rule_id,
            "dest_bucket": rule.dest_bucket,
            "dest_location": rule.dest_location,
            "prefixes": list(rule.prefixes),
            "actions": list(rule.actions),
            "transfer_type": rule.transfer_type.value,
            "historical_enabled": rule.historical_enabled,
            "sync_role": rule.sync_role,
            "sse_kms_status": rule.sse_kms_status.value if rule.sse_kms_status else None,
            "replica_kms_key_id": rule.replica_kms_key_id,
            "rtc_status": rule.rtc_status.value if rule.rtc_status else None,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def rule_from_json(text: str, status: str) -> ReplicationRule:
    raw: dict[str, Any] = json.loads(text)
    return ReplicationRule(
        rule_id=raw["rule_id"],
        dest_bucket=raw["dest_bucket"],
        dest_location=raw["dest_location"],
        prefixes=tuple(raw["prefixes"]),
        actions=tuple(raw["actions"]),
        transfer_type=TransferType(raw["transfer_type"]),
        historical_enabled=bool(raw["historical_enabled"]),
        sync_role=raw["sync_role"],
        sse_kms_status=SseKmsStatus(raw["sse_kms_status"]) if raw["sse_kms_status"] else None,
        replica_kms_key_id=raw["replica_kms_key_id"],
        rtc_status=Toggle(raw["rtc_status"]) if raw["rtc_status"] else None,
        status=RuleStatus(status),
    )


def _stored(row: sqlite3.Row) -> StoredRule:
    return StoredRule(
        bucket=row["bucket"],
        rule=rule_from_json(row["rule"], row["status"]),
        created_at=row["created_at"],
        status_changed_at=row["status_changed_at"],
    )


class SqliteReplicationStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    # --- rules --------------------------------------------------------------

    def list_rules(self, bucket: str) -> list[StoredRule]:
        rows = (
            self.db.conn()
            .execute(
                "SELECT * FROM replication_rules WHERE bucket = ? ORDER BY created_at, rule_id", (bucket,)
            )
            .fetchall()
        )
        return [_stored(r) for r in rows]

    def rules_in_status(self, status: RuleStatus) -> list[StoredRule]:
        rows = (
            self.db.conn()
            .execute("SELECT * FROM replication_rules WHERE status = ? ORDER BY created_at", (status.value,))
            .fetchall()
        )
        return [_stored(r) for r in rows]

    def get_rule(self, bucket: str, rule_id: str) -> ReplicationRule | None:
        row = (
            self.db.conn()
            .execute("SELECT * FROM replication_rules WHERE bucket = ? AND rule_id = ?", (bucket, rule_id))
            .fetchone()
        )
        return _stored(row).rule if row else None

    def start_seq(self, bucket: str, rule_id: str) -> int:
        """The bucket's newest version when the rule was created (the end of its backfill)."""
        row = (
            self.db.conn()
            .execute(
                "SELECT start_seq FROM replication_rules WHERE bucket = ? AND rule_id = ?", (bucket, rule_id)
            )
            .fetchone()
        )
        return int(row["start_seq"]) if row else 0

    def all_rules(self) -> list[StoredRule]:
        rows = (
            self.db.conn().execute("SELECT * FROM replication_rules ORDER BY bucket, created_at").fetchall()
        )
        return [_stored(r) for r in rows]

    def add_rule(self, bucket: str, rule: ReplicationRule, now: float) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT INTO replication_rules VALUES (?, ?, ?, ?, ?, ?, "
                "(SELECT coalesce(max(seq), 0) FROM versions WHERE bucket = ?))",
                (bucket, rule.rule_id, rule_to_json(rule), rule.status.value, now, now, bucket),
            )

    def update_rule(self, bucket: str, rule: ReplicationRule, now: float) -> bool:
        """Store a changed rule (RTC, status); the status clock restarts only on a status change."""
        with self.db.write() as db:
            cur = db.execute(
                "UPDATE replication_rules SET rule = ?, "
                "status_changed_at = CASE WHEN status = ? THEN status_changed_at ELSE ? END, status = ? "
                "WHERE bucket = ? AND rule_id = ?",
                (rule_to_json(rule), rule.status.value, now, rule.status.value, bucket, rule.rule_id),
            )
            return cur.rowcount > 0

    def remove_rule(self, bucket: str, rule_id: str) -> None:
        """Forget a rule with its unfinished work (the rule was deleted: replicas stay as they are)."""
        with self.db.write() as db:
            db.execute("DELETE FROM replication_rules WHERE bucket = ? AND rule_id = ?", (bucket, rule_id))
            db.execute("DELETE FROM replication_tasks WHERE bucket = ? AND rule_id = ?", (bucket, rule_id))
            db.execute("DELETE FROM replication_backfill WHERE bucket = ? AND rule_id = ?", (bucket, rule_id))

    def has_rules(self, bucket: str) -> bool:
        row = (
            self.db.conn()
            .execute("SELECT 1 FROM replication_rules WHERE bucket = ? LIMIT 1", (bucket,))
            .fetchone()
        )
        return row is not None

    # --- incoming registrations (kept by the destination's region) ------------

    def add_incoming(self, incoming: IncomingRule) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO incoming_rules VALUES (?, ?, ?, ?)",
                (incoming.dest_bucket, incoming.source_region, incoming.source_bucket, incoming.rule_id),
            )

    def remove_incoming(self, incoming: IncomingRule) -> None:
        with self.db.write() as db:
            db.execute(
                "DELETE FROM incoming_rules WHERE dest_bucket = ? AND source_region = ? "
                "AND source_bucket = ? AND rule_id = ?",
                (incoming.dest_bucket, incoming.source_region, incoming.source_bucket, incoming.rule_id),
            )

    def count_incoming(self, dest_bucket: str) -> int:
        row = (
            self.db.conn()
            .execute("SELECT count(*) AS n FROM incoming_rules WHERE dest_bucket = ?", (dest_bucket,))
            .fetchone()
        )
        return int(row["n"])

    # --- progress -------------------------------------------------------------

    def historical_fraction(self, bucket: str, rule_id: str) -> float:
        """Share of the historical objects at the destination.

        1.0 only once the scan is complete and no historical copy is left; objects
        deleted at the source before their turn never count as done, so until then
        the fraction is capped just below 1.
        """
        db = self.db.conn()
        row = db.execute(
            "SELECT cursor_seq, end_seq, total, done FROM replication_backfill "
            "WHERE bucket = ? AND rule_id = ?",
            (bucket, rule_id),
        ).fetchone()
        if row is None:
            return 0.0
        left = db.execute(
            "SELECT 1 FROM replication_tasks WHERE bucket = ? AND rule_id = ? AND historical = 1 LIMIT 1",
            (bucket, rule_id),
        ).fetchone()
        if row["cursor_seq"] >= row["end_seq"] and left is None:
            return 1.0
        if row["total"] == 0:
            return 0.0
        return min(0.99, float(row["done"]) / float(row["total"]))

    def oldest_pending_change(self, bucket: str, rule_id: str) -> float | None:
        """When the oldest change not yet at the destination was committed (historical copies excluded)."""
        row = (
            self.db.conn()
            .execute(
                "SELECT min(created_at) AS t FROM replication_tasks "
                "WHERE bucket = ? AND rule_id = ? AND historical = 0",
                (bucket, rule_id),
            )
            .fetchone()
        )
        return float(row["t"]) if row["t"] is not None else None
