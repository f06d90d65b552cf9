"""What ``ferry replication verify`` found, kept with the rule in the source region's database."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS replication_verifications (
    bucket           TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    checked_at       REAL NOT NULL,   -- when the last verification started
    compared         INTEGER NOT NULL,
    differences      INTEGER NOT NULL,
    repairs_queued   INTEGER NOT NULL,
    consistent_up_to REAL,            -- last proof: every change before this is at the destination
    PRIMARY KEY (bucket, rule_id)
);
"""


@dataclass(frozen=True)
class Verification:
    bucket: str
    rule_id: str
    checked_at: float
    compared: int
    differences: int
    repairs_queued: int
    consistent_up_to: float | None
    """From the last run that found the destination consistent (kept when a later run did not)."""


class SqliteVerifications:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    def record(
        self,
        bucket: str,
        rule_id: str,
        *,
        checked_at: float,
        compared: int,
        differences: int,
        repairs_queued: int,
        consistent_up_to: float | None,
    ) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT INTO replication_verifications VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (bucket, rule_id) DO UPDATE SET checked_at = excluded.checked_at, "
                "compared = excluded.compared, differences = excluded.differences, "
                "repairs_queued = excluded.repairs_queued, "
                "consistent_up_to = coalesce(excluded.consistent_up_to, consistent_up_to)",
                (bucket, rule_id, checked_at, compared, differences, repairs_queued, consistent_up_to),
            )

    def latest(self, bucket: str, rule_id: str) -> Verification | None:
        row = (
            self.db.conn()
            .execute(
                "SELECT * FROM replication_verifications WHERE bucket = ? AND rule_id = ?", (bucket, rule_id)
            )
            .fetchone()
        )
        if row is None:
            return None
        return Verification(
            bucket=row["bucket"],
            rule_id=row["rule_id"],
            checked_at=row["checked_at"],
            compared=row["compared"],
            differences=row["differences"],
            repairs_queued=row["repairs_queued"],
            consistent_up_to=row["consistent_up_to"],
        )


def count_versions(db: SqliteDatabase, bucket: str, prefix: str) -> int:
    """How many versions (delete markers included) the bucket holds under ``prefix``."""
    row = (
        db.conn()
        .execute(
            "SELECT count(*) AS n FROM versions WHERE bucket = ? AND substr(key, 1, ?) = ?",
            (bucket, len(prefix), prefix),
        )
        .fetchone()
    )
    return int(row["n"])
