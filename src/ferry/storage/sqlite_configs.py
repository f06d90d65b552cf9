"""Bucket (and account) configurations on SQLite: one JSON document per bucket and kind.

The documents are opaque here; :mod:`ferry.service.bucket_configs` turns them
into domain values.  The tables live in the region's database file but have
their own schema, apart from the object metadata.
"""

from __future__ import annotations

from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (bucket, kind)
);
CREATE INDEX IF NOT EXISTS bucket_configs_by_kind ON bucket_configs (kind, bucket);
CREATE TABLE IF NOT EXISTS account_configs (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account_id, kind)
);
"""


class SqliteConfigStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.executescript(SCHEMA)

    # --- buckets --------------------------------------------------------------

    def get(self, bucket: str, kind: str) -> str | None:
        row = (
            self._db.conn()
            .execute("SELECT body FROM bucket_configs WHERE bucket = ? AND kind = ?", (bucket, kind))
            .fetchone()
        )
        return str(row["body"]) if row else None

    def all_of(self, bucket: str) -> dict[str, str]:
        rows = self._db.conn().execute("SELECT kind, body FROM bucket_configs WHERE bucket = ?", (bucket,))
        return {str(r["kind"]): str(r["body"]) for r in rows}

    def put(self, bucket: str, kind: str, body: str, at: float) -> None:
        with self._db.write() as db:
            db.execute(
                "INSERT INTO bucket_configs (bucket, kind, body, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (bucket, kind) DO UPDATE SET body = excluded.body, "
                "updated_at = excluded.updated_at",
                (bucket, kind, body, at),
            )

    def delete(self, bucket: str, kind: str) -> bool:
        with self._db.write() as db:
            cur = db.execute("DELETE FROM bucket_configs WHERE bucket = ? AND kind = ?", (bucket, kind))
            return cur.rowcount > 0

    def drop_bucket(self, bucket: str) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM bucket_configs WHERE bucket = ?", (bucket,))

    def buckets_with(self, kind: str) -> list[str]:
        rows = self._db.conn().execute(
            "SELECT bucket FROM bucket_configs WHERE kind = ? ORDER BY bucket", (kind,)
        )
        return [str(r["bucket"]) for r in rows]

    # --- accounts -------------------------------------------------------------

    def get_account(self, account_id: str, kind: str) -> str | None:
        row = (
            self._db.conn()
            .execute("SELECT body FROM account_configs WHERE account_id = ? AND kind = ?", (account_id, kind))
            .fetchone()
        )
        return str(row["body"]) if row else None

    def put_account(self, account_id: str, kind: str, body: str, at: float) -> None:
        with self._db.write() as db:
            db.execute(
                "INSERT INTO account_configs (account_id, kind, body, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account_id, kind) DO UPDATE SET body = excluded.body, "
                "updated_at = excluded.updated_at",
                (account_id, kind, body, at),
            )

    def delete_account(self, account_id: str, kind: str) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM account_configs WHERE account_id = ? AND kind = ?", (account_id, kind))
