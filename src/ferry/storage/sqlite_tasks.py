"""The durable replication queue: the outbox hook, leases, retries, and the backfill cursor.

Every task is one row from the moment the change that caused it commits
(the hook runs inside that transaction) until the destination has it; nothing
of replication lives only in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ferry.core.model import ChangeKind, ObjectChange, ReplicationState
from ferry.core.replication_decide import decide, replicates_encryption
from ferry.core.replication_rules import ReplicationRule, RuleStatus, rule_matches
from ferry.core.replication_task import (
    FAILED_AFTER_ATTEMPTS,
    Repair,
    ReplicationTask,
    TaskState,
    backoff_seconds,
)
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_replication import rule_from_json
from ferry.storage.sqlite_rows import encryption_from

SCHEMA = """
CREATE INDEX IF NOT EXISTS tasks_order ON replication_tasks (historical, rtc DESC, id);
CREATE INDEX IF NOT EXISTS tasks_rtc_lane ON replication_tasks (id) WHERE rtc = 1;
CREATE INDEX IF NOT EXISTS tasks_general_lane ON replication_tasks (historical, id) WHERE rtc = 0;
CREATE INDEX IF NOT EXISTS tasks_by_object ON replication_tasks (bucket, key, version_id);
"""

_CLAIMABLE = (
    "SELECT * FROM replication_tasks t WHERE {lane} t.next_attempt_at <= ? AND t.lease_until <= ? "
    "AND NOT EXISTS (SELECT 1 FROM replication_tasks o WHERE o.bucket = t.bucket "
    "AND o.rule_id = t.rule_id AND o.key = t.key AND o.id < t.id AND o.state = 'pending') "
    "ORDER BY {order} LIMIT ?"
)
# A lane's literal ``t.rtc = 1`` / ``t.rtc = 0`` lets SQLite walk its partial index in claim
# order and stop at the limit, so a claim stays cheap (and short under the write lock) while a
# backfill of any size waits in the queue.
_CLAIM_ALL = _CLAIMABLE.format(lane="", order="t.historical, t.rtc DESC, t.id")
_CLAIM_RTC = _CLAIMABLE.format(lane="t.rtc = 1 AND", order="t.id")
_CLAIM_NON_RTC = _CLAIMABLE.format(lane="t.rtc = 0 AND", order="t.historical, t.id")

BACKFILL_BATCH = 500


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    failed: int


def _task(row: sqlite3.Row) -> ReplicationTask:
    return ReplicationTask(
        id=row["id"],
        bucket=row["bucket"],
        rule_id=row["rule_id"],
        key=row["key"],
        version_id=row["version_id"],
        source_seq=row["source_seq"],
        kind=ChangeKind(row["kind"]),
        historical=bool(row["historical"]),
        rtc=bool(row["rtc"]),
        created_at=row["created_at"],
        state=TaskState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


def _rules_of(db: sqlite3.Connection, bucket: str) -> list[ReplicationRule]:
    rows = db.execute("SELECT rule, status FROM replication_rules WHERE bucket = ?", (bucket,)).fetchall()
    return [rule_from_json(r["rule"], r["status"]) for r in rows]


def _next_seq(db: sqlite3.Connection) -> int:
    """A number from the same sequence as version creations (``versions.seq``, AUTOINCREMENT),
    so a delete or a metadata change orders against the versions of its key."""
    db.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'versions', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'versions')"
    )
    row = db.execute(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'versions' RETURNING seq"
    ).fetchone()
    return int(row["seq"])


def _change_seq(db: sqlite3.Connection, change: ObjectChange) -> int:
    """A new version (or delete marker) is ordered by its creation; anything else gets a new number."""
    creates_version = change.kind in (ChangeKind.PUT, ChangeKind.DELETE_MARKER) and not change.metadata_only
    return change.version.seq if creates_version else _next_seq(db)


def _insert_task(
    db: sqlite3.Connection,
    *,
    bucket: str,
    rule_id: str,
    key: str,
    version_id: str,
    kind: ChangeKind,
    seq: int,
    historical: bool,
    rtc: bool,
    at: float,
) -> None:
    db.execute(
        "INSERT INTO replication_tasks (bucket, rule_id, key, version_id, source_seq, kind, historical, rtc, "
        "created_at, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            bucket,
            rule_id,
            key,
            version_id,
            seq,
            kind.value,
            int(historical),
            int(rtc),
            at,
            TaskState.PENDING.value,
            at,
        ),
    )


def _source_has(db: sqlite3.Connection, bucket: str, repair: Repair) -> bool:
    """Whether the source holds the version a repair would delete at the destination."""
    # An unversioned delete removes the object: a delete marker there is no object.
    markers = "AND is_delete_marker = 0" if repair.kind is ChangeKind.DELETE else ""
    row = db.execute(
        f"SELECT 1 FROM versions WHERE bucket = ? AND key = ? AND version_id = ? {markers}",
        (bucket, repair.key, repair.version_id),
    ).fetchone()
    return row is not None


class SqliteTaskQueue:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    # --- the outbox hook ------------------------------------------------------

    def on_change(self, db: sqlite3.Connection, change: ObjectChange) -> bool:
        """Queue a task per matching rule, in the transaction that commits ``change``."""
        specs = decide(change, _rules_of(db, change.version.bucket))
        seq = _change_seq(db, change) if specs else 0
        for spec in specs:
            _insert_task(
                db,
                bucket=change.version.bucket,
                rule_id=spec.rule_id,
                key=change.version.key,
                version_id=change.version.version_id,
                kind=spec.kind,
                seq=seq,
                historical=False,
                rtc=spec.rtc,
                at=change.at,
            )
        if specs and change.kind is not ChangeKind.DELETE and change.kind is not ChangeKind.DELETE_VERSION:
            db.execute(
                "UPDATE versions SET replication = ? WHERE seq = ?",
                (ReplicationState.PENDING.value, change.version.seq),
            )
        return bool(specs)

    # --- workers --------------------------------------------------------------

    def claim(self, now: float, limit: int, lease_seconds: float) -> list[ReplicationTask]:
        """Lease up to ``limit`` due tasks, RTC first, historical last, oldest first, and at most
        one per key (the oldest pending), so the changes of a key reach the destination in order."""
        with self.db.write() as db:
            return self._claim_in(db, _CLAIM_ALL, now, limit, lease_seconds)

    def claim_lanes(
        self, now: float, rtc_limit: int, limit: int, lease_seconds: float
    ) -> tuple[list[ReplicationTask], list[ReplicationTask]]:
        """One transaction for both lanes: (RTC tasks, other tasks, historical last).

        With no room in the general lane, the write lock is taken only if an RTC task is due.
        """
        if limit <= 0 and not self._rtc_due(now):
            return [], []
        with self.db.write() as db:
            rtc = self._claim_in(db, _CLAIM_RTC, now, rtc_limit, lease_seconds) if rtc_limit > 0 else []
            rest = self._claim_in(db, _CLAIM_NON_RTC, now, limit, lease_seconds) if limit > 0 else []
        return rtc, rest

    def has_later_change(self, task: ReplicationTask) -> bool:
        """Whether a later change of the same version (an overwrite of a ``null`` version, a
        metadata change, a delete) is queued for the same rule: it will send the state as it is
        then, so this task has nothing of its own to send."""
        row = (
            self.db.conn()
            .execute(
                "SELECT 1 FROM replication_tasks WHERE bucket = ? AND key = ? AND version_id = ? "
                "AND rule_id = ? AND source_seq > ? LIMIT 1",
                (task.bucket, task.key, task.version_id, task.rule_id, task.source_seq),
            )
            .fetchone()
        )
        return row is not None

    def _rtc_due(self, now: float) -> bool:
        row = (
            self.db.conn()
            .execute(
                "SELECT 1 FROM replication_tasks WHERE rtc = 1 AND next_attempt_at <= ? AND lease_until <= ? "
                "LIMIT 1",
                (now, now),
            )
            .fetchone()
        )
        return row is not None

    @staticmethod
    def _claim_in(
        db: sqlite3.Connection, sql: str, now: float, limit: int, lease_seconds: float
    ) -> list[ReplicationTask]:
        tasks = [_task(r) for r in db.execute(sql, (now, now, limit)).fetchall()]
        db.executemany(
            "UPDATE replication_tasks SET lease_until = ? WHERE id = ?",
            [(now + lease_seconds, t.id) for t in tasks],
        )
        return tasks

    def ack(self, task: ReplicationTask) -> None:
        """The destination has the change (or a later one): the task is done."""
        self.ack_many([task])

    def ack_many(
        self, tasks: list[ReplicationTask], also: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        """Done; ``also`` runs in the same transaction (the engine records the lag there)."""
        with self.db.write() as db:
            if also is not None:
                also(db)
            for task in tasks:
                gone = db.execute("DELETE FROM replication_tasks WHERE id = ?", (task.id,)).rowcount
                if not gone:
                    continue  # the rule was removed meanwhile
                if task.historical:
                    db.execute(
                        "UPDATE replication_backfill SET done = done + 1 WHERE bucket = ? AND rule_id = ?",
                        (task.bucket, task.rule_id),
                    )
                self._refresh_status(db, task)

    def fail(self, task: ReplicationTask, error: str, now: float) -> None:
        """Retry later with capped, jittered backoff; after a few attempts the task shows as FAILED."""
        attempts = task.attempts + 1
        state = TaskState.FAILED if attempts >= FAILED_AFTER_ATTEMPTS else TaskState.PENDING
        with self.db.write() as db:
            db.execute(
                "UPDATE replication_tasks SET attempts = ?, state = ?, next_attempt_at = ?, lease_until = 0, "
                "last_error = ? WHERE id = ?",
                (attempts, state.value, now + backoff_seconds(attempts), error[:1000], task.id),
            )
            if state is TaskState.FAILED:
                self._refresh_status(db, task)

    def _refresh_status(self, db: sqlite3.Connection, task: ReplicationTask) -> None:
        # Deletes too: in an unversioned bucket a later PUT of the key has the same version id
        # ("null"), and its status counts this task while it is left (a FAILED delete would
        # otherwise leave the new object FAILED for good once the delete finally went through).
        left = db.execute(
            "SELECT count(*) AS n, sum(state = 'failed') AS failed FROM replication_tasks "
            "WHERE bucket = ? AND key = ? AND version_id = ?",
            (task.bucket, task.key, task.version_id),
        ).fetchone()
        if left["failed"]:
            status = ReplicationState.FAILED
        elif left["n"] == 0:
            status = ReplicationState.COMPLETED
        else:
            status = ReplicationState.PENDING
        db.execute(
            "UPDATE versions SET replication = ? WHERE bucket = ? AND key = ? AND version_id = ? "
            "AND replication != ?",
            (status.value, task.bucket, task.key, task.version_id, ReplicationState.REPLICA.value),
        )

    def release_leases(self) -> int:
        """Make every leased task claimable again: called when the region's only process starts,
        so leases held by a killed predecessor do not delay its work until they expire."""
        with self.db.write() as db:
            return db.execute("UPDATE replication_tasks SET lease_until = 0 WHERE lease_until > 0").rowcount

    def retry_failed(self, bucket: str | None = None) -> int:
        """Make every FAILED task (of one bucket, or all) due now; returns how many."""
        with self.db.write() as db:
            cur = db.execute(
                "UPDATE replication_tasks SET state = 'pending', next_attempt_at = 0, lease_until = 0 "
                "WHERE state = 'failed' AND (? IS NULL OR bucket = ?)",
                (bucket, bucket),
            )
            return cur.rowcount

    def enqueue_repairs(self, bucket: str, rule_id: str, repairs: Sequence[Repair], now: float) -> int:
        """Queue the fixes a verification found (``ferry replication verify --repair``).

        A repair carries a new sequence number, so the destination applies it even though it
        believes it has the change already (that belief is what verification disproved).  A
        delete marker keeps its own number: it orders the marker among the key's versions.
        A repair delete is dropped if the source has the object again by now.
        """
        queued = 0
        with self.db.write() as db:
            rule = db.execute(
                "SELECT rule, status FROM replication_rules WHERE bucket = ? AND rule_id = ?",
                (bucket, rule_id),
            ).fetchone()
            if rule is None:
                return 0
            rtc = rule_from_json(rule["rule"], rule["status"]).rtc_enabled
            for repair in repairs:
                if repair.kind in (ChangeKind.DELETE, ChangeKind.DELETE_VERSION) and _source_has(
                    db, bucket, repair
                ):
                    continue
                seq = repair.seq if repair.kind is ChangeKind.DELETE_MARKER else _next_seq(db)
                _insert_task(
                    db,
                    bucket=bucket,
                    rule_id=rule_id,
                    key=repair.key,
                    version_id=repair.version_id,
                    kind=repair.kind,
                    seq=seq,
                    historical=False,
                    rtc=rtc,
                    at=now,
                )
                queued += 1
        return queued

    def counts(self, bucket: str, rule_id: str) -> QueueCounts:
        row = (
            self.db.conn()
            .execute(
                "SELECT count(*) AS n, coalesce(sum(state = 'failed'), 0) AS failed FROM replication_tasks "
                "WHERE bucket = ? AND rule_id = ?",
                (bucket, rule_id),
            )
            .fetchone()
        )
        return QueueCounts(pending=int(row["n"]) - int(row["failed"]), failed=int(row["failed"]))

    # --- historical objects -----------------------------------------------------

    def take_rule(self, bucket: str, rule: ReplicationRule, now: float) -> None:
        """starting -> doing: set up the backfill of what existed when the rule was created."""
        with self.db.write() as db:
            end = db.execute(
                "SELECT start_seq FROM replication_rules WHERE bucket = ? AND rule_id = ?",
                (bucket, rule.rule_id),
            ).fetchone()
            if end is None:
                return  # the rule was deleted meanwhile
            end_seq = int(end["start_seq"])
            total = 0
            if rule.historical_enabled:
                rows = db.execute(
                    "SELECT key, is_delete_marker, replication, encryption FROM versions "
                    "WHERE bucket = ? AND seq <= ?",
                    (bucket, end_seq),
                )
                total = sum(1 for r in rows if self._backfills(rule, r))
            db.execute(
                "INSERT OR REPLACE INTO replication_backfill VALUES (?, ?, ?, ?, ?, 0)",
                (bucket, rule.rule_id, 0 if rule.historical_enabled else end_seq, end_seq, total),
            )
            db.execute(
                "UPDATE replication_rules SET status = ?, status_changed_at = ? "
                "WHERE bucket = ? AND rule_id = ?",
                (RuleStatus.DOING.value, now, bucket, rule.rule_id),
            )

    @staticmethod
    def _backfills(rule: ReplicationRule, row: sqlite3.Row) -> bool:
        if row["replication"] == ReplicationState.REPLICA.value or not rule_matches(rule, row["key"]):
            return False
        if row["is_delete_marker"]:
            return rule.replicates_deletes
        return replicates_encryption(rule, encryption_from(row["encryption"]))

    def backfill_step(
        self, bucket: str, rule: ReplicationRule, now: float, batch: int = BACKFILL_BATCH
    ) -> tuple[int, bool]:
        """Queue the next batch of historical objects: (tasks queued, whether more remain).

        The cursor moves in the same transaction as the tasks it queued, so a
        crash repeats no batch and skips none.
        """
        with self.db.write() as db:
            state = db.execute(
                "SELECT cursor_seq, end_seq FROM replication_backfill WHERE bucket = ? AND rule_id = ?",
                (bucket, rule.rule_id),
            ).fetchone()
            if state is None or state["cursor_seq"] >= state["end_seq"]:
                return 0, False
            rows = db.execute(
                "SELECT seq, key, version_id, is_delete_marker, replication, encryption FROM versions "
                "WHERE bucket = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (bucket, state["cursor_seq"], state["end_seq"], batch),
            ).fetchall()
            cursor = state["end_seq"] if len(rows) < batch else rows[-1]["seq"]
            queued = 0
            for row in rows:
                if not self._backfills(rule, row):
                    continue
                queued += 1
                kind = ChangeKind.DELETE_MARKER if row["is_delete_marker"] else ChangeKind.PUT
                _insert_task(
                    db,
                    bucket=bucket,
                    rule_id=rule.rule_id,
                    key=row["key"],
                    version_id=row["version_id"],
                    kind=kind,
                    seq=row["seq"],
                    historical=True,
                    rtc=False,
                    at=now,
                )
            db.execute(
                "UPDATE replication_backfill SET cursor_seq = ? WHERE bucket = ? AND rule_id = ?",
                (cursor, bucket, rule.rule_id),
            )
            return queued, cursor < state["end_seq"]
