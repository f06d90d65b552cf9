"""The IAM tables of a region, in the region's SQLite database (an :class:`IamStore` adapter).

Secrets are stored as the caller sealed them (``sealed_secret``); this module never sees a
plaintext secret.  Every write bumps ``iam_meta.generation`` in the same transaction, so a reader
that saw generation *n* and reads *n* again knows nothing changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from ferry.iam.records import (
    AccountRecord,
    AttachmentRecord,
    BucketPolicyRecord,
    IamRecords,
    KeyRecord,
    KeyStatus,
    PolicyRecord,
    RoleRecord,
    TargetKind,
    UserRecord,
)
from ferry.storage.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS iam_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO iam_meta (id, generation) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS iam_accounts (
    account_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS iam_users (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    user_id    TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);
-- user_name NULL: the account's own key.  sealed_secret: AES-GCM under the IAM master key.
CREATE TABLE IF NOT EXISTS iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    user_name     TEXT,
    sealed_secret TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS iam_roles (
    account_id          TEXT NOT NULL,
    name                TEXT NOT NULL,
    role_id             TEXT NOT NULL UNIQUE,
    trust_policy        TEXT NOT NULL,
    max_session_seconds INTEGER NOT NULL,
    created_at          REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE IF NOT EXISTS iam_policies (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE IF NOT EXISTS iam_attachments (
    account_id  TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    system      INTEGER NOT NULL,
    target_kind TEXT NOT NULL,
    target_name TEXT NOT NULL,
    PRIMARY KEY (account_id, policy_name, system, target_kind, target_name)
);
CREATE TABLE IF NOT EXISTS iam_bucket_policies (
    bucket            TEXT PRIMARY KEY,
    bucket_created_at REAL NOT NULL,
    document          TEXT NOT NULL
);
"""

T = TypeVar("T")


class SqliteIamStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        db.executescript(SCHEMA)

    def _change(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self.db.write() as conn:
            result = fn(conn)
            conn.execute("UPDATE iam_meta SET generation = generation + 1 WHERE id = 1")
        return result

    def generation(self) -> int:
        row = self.db.conn().execute("SELECT generation FROM iam_meta WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def load(self) -> IamRecords:
        conn = self.db.conn()
        # One read transaction: the generation and the rows it describes are consistent.
        conn.execute("BEGIN")
        try:
            generation = self.generation()
            rows = {
                table: conn.execute(f"SELECT * FROM {table}").fetchall()
                for table in (
                    "iam_accounts",
                    "iam_users",
                    "iam_access_keys",
                    "iam_roles",
                    "iam_policies",
                    "iam_attachments",
                    "iam_bucket_policies",
                )
            }
        finally:
            conn.execute("COMMIT")
        return IamRecords(
            generation=generation,
            accounts=tuple(
                AccountRecord(r["account_id"], r["name"], r["created_at"]) for r in rows["iam_accounts"]
            ),
            users=tuple(
                UserRecord(r["account_id"], r["name"], r["user_id"], r["created_at"])
                for r in rows["iam_users"]
            ),
            keys=tuple(
                KeyRecord(
                    r["access_key_id"],
                    r["account_id"],
                    r["user_name"],
                    r["sealed_secret"],
                    KeyStatus(r["status"]),
                    r["created_at"],
                )
                for r in rows["iam_access_keys"]
            ),
            roles=tuple(
                RoleRecord(
                    r["account_id"],
                    r["name"],
                    r["role_id"],
                    r["trust_policy"],
                    r["max_session_seconds"],
                    r["created_at"],
                )
                for r in rows["iam_roles"]
            ),
            policies=tuple(
                PolicyRecord(r["account_id"], r["name"], r["document"], r["updated_at"])
                for r in rows["iam_policies"]
            ),
            attachments=tuple(
                AttachmentRecord(
                    r["account_id"],
                    r["policy_name"],
                    bool(r["system"]),
                    TargetKind(r["target_kind"]),
                    r["target_name"],
                )
                for r in rows["iam_attachments"]
            ),
            bucket_policies=tuple(
                BucketPolicyRecord(r["bucket"], r["bucket_created_at"], r["document"])
                for r in rows["iam_bucket_policies"]
            ),
        )

    # --- accounts, users, keys -------------------------------------------------------------

    def put_account(self, account: AccountRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT INTO iam_accounts VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
                "name = excluded.name",
                (account.account_id, account.name, account.created_at),
            )
        )

    def put_user(self, user: UserRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO iam_users VALUES (?, ?, ?, ?)",
                (user.account_id, user.name, user.user_id, user.created_at),
            )
        )

    def delete_user(self, account_id: str, name: str) -> None:
        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM iam_users WHERE account_id = ? AND name = ?", (account_id, name))
            c.execute(
                "DELETE FROM iam_access_keys WHERE account_id = ? AND user_name = ?", (account_id, name)
            )
            c.execute(
                "DELETE FROM iam_attachments WHERE account_id = ? AND target_kind = ? AND target_name = ?",
                (account_id, TargetKind.USER.value, name),
            )

        self._change(run)

    def put_key(self, key: KeyRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO iam_access_keys VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.access_key_id,
                    key.account_id,
                    key.user_name,
                    key.sealed_secret,
                    key.status.value,
                    key.created_at,
                ),
            )
        )

    def delete_key(self, access_key_id: str) -> None:
        self._change(
            lambda c: c.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,))
        )

    # --- roles and policies ----------------------------------------------------------------

    def put_role(self, role: RoleRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO iam_roles VALUES (?, ?, ?, ?, ?, ?)",
                (
                    role.account_id,
                    role.name,
                    role.role_id,
                    role.trust_policy,
                    role.max_session_seconds,
                    role.created_at,
                ),
            )
        )

    def delete_role(self, account_id: str, name: str) -> None:
        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM iam_roles WHERE account_id = ? AND name = ?", (account_id, name))
            c.execute(
                "DELETE FROM iam_attachments WHERE account_id = ? AND target_kind = ? AND target_name = ?",
                (account_id, TargetKind.ROLE.value, name),
            )

        self._change(run)

    def put_policy(self, policy: PolicyRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO iam_policies VALUES (?, ?, ?, ?)",
                (policy.account_id, policy.name, policy.document, policy.updated_at),
            )
        )

    def delete_policy(self, account_id: str, name: str) -> None:
        self._change(
            lambda c: c.execute(
                "DELETE FROM iam_policies WHERE account_id = ? AND name = ?", (account_id, name)
            )
        )

    def attach(self, attachment: AttachmentRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO iam_attachments VALUES (?, ?, ?, ?, ?)", _attachment_row(attachment)
            )
        )

    def detach(self, attachment: AttachmentRecord) -> None:
        self._change(
            lambda c: c.execute(
                "DELETE FROM iam_attachments WHERE account_id = ? AND policy_name = ? AND system = ? "
                "AND target_kind = ? AND target_name = ?",
                _attachment_row(attachment),
            )
        )

    def purge_plaintext_keys(self, access_key_ids: list[str]) -> None:
        """Remove the copies of the root and service keys that earlier versions wrote in plain
        text into the metadata store's ``access_keys`` table (nothing reads them any more)."""
        conn = self.db.conn()
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'access_keys'"
        ).fetchone():
            with self.db.write() as c:
                c.executemany(
                    "DELETE FROM access_keys WHERE access_key_id = ?", [(k,) for k in access_key_ids]
                )

    # --- bucket policies (this region's buckets only) --------------------------------------

    def put_bucket_policy(self, policy: BucketPolicyRecord) -> None:
        self._change(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO iam_bucket_policies VALUES (?, ?, ?)",
                (policy.bucket, policy.bucket_created_at, policy.document),
            )
        )

    def get_bucket_policy(self, bucket: str) -> BucketPolicyRecord | None:
        row = (
            self.db.conn().execute("SELECT * FROM iam_bucket_policies WHERE bucket = ?", (bucket,)).fetchone()
        )
        if row is None:
            return None
        return BucketPolicyRecord(row["bucket"], row["bucket_created_at"], row["document"])

    def delete_bucket_policy(self, bucket: str) -> None:
        self._change(lambda c: c.execute("DELETE FROM iam_bucket_policies WHERE bucket = ?", (bucket,)))


def _attachment_row(a: AttachmentRecord) -> tuple[str, str, int, str, str]:
    return (a.account_id, a.policy_name, int(a.system), a.target_kind.value, a.target_name)
