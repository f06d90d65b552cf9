"""Per-object replication lag: one row per change that reached its destination.

Written by the engine in the transaction that acknowledges the task; read by
the RTC report, the status command, the console's lag chart and the metrics.
Historical copies are not recorded (their "lag" is the age of the object).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS replication_lag (
    bucket     TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    version_id TEXT NOT NULL,
    rtc        INTEGER NOT NULL,
    created_at REAL NOT NULL,   -- when the change committed at the source
    done_at    REAL NOT NULL,   -- when the destination confirmed it
    lag        REAL NOT NULL    -- done_at - created_at, seconds
);
CREATE INDEX IF NOT EXISTS lag_by_rule ON replication_lag (bucket, rule_id, done_at);
CREATE INDEX IF NOT EXISTS lag_by_time ON replication_lag (done_at);
"""


@dataclass(frozen=True)
class LagSample:
    bucket: str
    rule_id: str
    key: str
    version_id: str
    rtc: bool
    created_at: float
    done_at: float

    @property
    def lag(self) -> float:
        return max(0.0, self.done_at - self.created_at)


@dataclass(frozen=True)
class LagStats:
    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None


@dataclass(frozen=True)
class LagPoint:
    """One step of the lag chart: the changes finished in ``[start, start + step)``."""

    start: float
    count: int
    p99: float
    max: float


class SqliteLagLog:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    @staticmethod
    def record_in(db: sqlite3.Connection, samples: Sequence[LagSample]) -> None:
        """Insert inside the caller's transaction (the one that acknowledges the tasks)."""
        db.executemany(
            "INSERT INTO replication_lag VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (s.bucket, s.rule_id, s.key, s.version_id, int(s.rtc), s.created_at, s.done_at, s.lag)
                for s in samples
            ],
        )

    def prune(self, before: float) -> int:
        with self.db.write() as db:
            return db.execute("DELETE FROM replication_lag WHERE done_at < ?", (before,)).rowcount

    def _lags(self, bucket: str, rule_id: str, since: float) -> list[float]:
        rows = (
            self.db.conn()
            .execute(
                "SELECT lag FROM replication_lag WHERE bucket = ? AND rule_id = ? AND done_at >= ? "
                "ORDER BY lag",
                (bucket, rule_id, since),
            )
            .fetchall()
        )
        return [float(r["lag"]) for r in rows]

    def stats(self, bucket: str, rule_id: str, since: float) -> LagStats:
        lags = self._lags(bucket, rule_id, since)
        if not lags:
            return LagStats(0, None, None, None, None)
        return LagStats(
            count=len(lags),
            p50=percentile(lags, 0.50),
            p90=percentile(lags, 0.90),
            p99=percentile(lags, 0.99),
            max=lags[-1],
        )

    def within(self, bucket: str, rule_id: str, since: float, threshold: float) -> tuple[int, int]:
        """(changes replicated within ``threshold``, changes that took longer) since ``since``."""
        row = (
            self.db.conn()
            .execute(
                "SELECT coalesce(sum(lag <= ?), 0) AS ok, coalesce(sum(lag > ?), 0) AS late "
                "FROM replication_lag WHERE bucket = ? AND rule_id = ? AND done_at >= ?",
                (threshold, threshold, bucket, rule_id, since),
            )
            .fetchone()
        )
        return int(row["ok"]), int(row["late"])

    def series(self, bucket: str, rule_id: str, since: float, step: float) -> list[LagPoint]:
        """The lag per ``step`` seconds from ``since`` on (steps without changes are left out)."""
        rows = (
            self.db.conn()
            .execute(
                "SELECT CAST((done_at - ?) / ? AS INTEGER) AS slot, lag FROM replication_lag "
                "WHERE bucket = ? AND rule_id = ? AND done_at >= ? ORDER BY slot, lag",
                (since, step, bucket, rule_id, since),
            )
            .fetchall()
        )
        slots: dict[int, list[float]] = {}
        for row in rows:
            slots.setdefault(int(row["slot"]), []).append(float(row["lag"]))
        return [
            LagPoint(start=since + slot * step, count=len(lags), p99=percentile(lags, 0.99), max=lags[-1])
            for slot, lags in sorted(slots.items())
        ]

    def samples(self, bucket: str, rule_id: str, since: float) -> list[LagSample]:
        """Every recorded change of the rule since ``since`` (oldest first)."""
        rows = (
            self.db.conn()
            .execute(
                "SELECT * FROM replication_lag WHERE bucket = ? AND rule_id = ? AND done_at >= ? "
                "ORDER BY done_at",
                (bucket, rule_id, since),
            )
            .fetchall()
        )
        return [
            LagSample(
                bucket=r["bucket"],
                rule_id=r["rule_id"],
                key=r["key"],
                version_id=r["version_id"],
                rtc=bool(r["rtc"]),
                created_at=r["created_at"],
                done_at=r["done_at"],
            )
            for r in rows
        ]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile of already sorted values (q in [0, 1])."""
    if not sorted_values:
        raise ValueError("no values")
    # ceil(q * n), with a little slack so 0.99 * 100 (= 99.00000000000001) is rank 99
    rank = math.ceil(q * len(sorted_values) - 1e-9)
    return sorted_values[min(len(sorted_values), max(1, rank)) - 1]
