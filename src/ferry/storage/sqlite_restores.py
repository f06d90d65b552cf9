"""Restores of cold object versions (RestoreObject), kept beside the versions they thaw.

A row is keyed by the version's ``seq``, which no other version ever takes again: an
overwrite is a new version, so it starts frozen, and a deleted version takes its row with it.
Only cold versions are ever looked up, so the hot read path of other objects never sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ferry.core.restore import RestoreOutcome, RestoreState, Tier
from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS restores (
    seq          INTEGER PRIMARY KEY,   -- versions.seq of the restored version
    requested_at REAL NOT NULL,
    ready_at     REAL NOT NULL,         -- readable from then on
    expires_at   REAL NOT NULL,         -- frozen again from then on
    tier         TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS restores_of_deleted_versions AFTER DELETE ON versions
BEGIN
    DELETE FROM restores WHERE seq = OLD.seq;
END;
"""

_TIERS = {t.value: t for t in Tier}


class SqliteRestores:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    def get(self, seq: int) -> RestoreState | None:
        row = (
            self.db.conn()
            .execute("SELECT requested_at, ready_at, expires_at, tier FROM restores WHERE seq = ?", (seq,))
            .fetchone()
        )
        return None if row is None else RestoreState(row[0], row[1], row[2], _TIERS[row[3]])

    def of(self, seqs: Iterable[int]) -> dict[int, RestoreState]:
        wanted = list(seqs)
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = (
            self.db.conn()
            .execute(
                f"SELECT seq, requested_at, ready_at, expires_at, tier FROM restores WHERE seq IN ({marks})",
                wanted,
            )
            .fetchall()
        )
        return {row[0]: RestoreState(row[1], row[2], row[3], _TIERS[row[4]]) for row in rows}

    def change(self, seq: int, decide: Callable[[RestoreState | None], RestoreOutcome]) -> RestoreOutcome:
        """Apply ``decide`` to the version's current restore in one transaction, so two
        concurrent RestoreObject calls cannot both start one."""
        with self.db.write() as db:
            row = db.execute(
                "SELECT requested_at, ready_at, expires_at, tier FROM restores WHERE seq = ?", (seq,)
            ).fetchone()
            current = None if row is None else RestoreState(row[0], row[1], row[2], _TIERS[row[3]])
            outcome = decide(current)
            state = outcome.state
            db.execute(
                "INSERT INTO restores VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE SET "
                "requested_at = excluded.requested_at, ready_at = excluded.ready_at, "
                "expires_at = excluded.expires_at, tier = excluded.tier",
                (seq, state.requested_at, state.ready_at, state.expires_at, state.tier.value),
            )
        return outcome
