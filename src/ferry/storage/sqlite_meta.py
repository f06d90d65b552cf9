"""The metadata store on SQLite (WAL), one database file per region.

Each thread has its own connection; writes take the database lock with
``BEGIN IMMEDIATE`` so a read-modify-write of one key never interleaves with
another writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from ferry.core.errors import OssError
from ferry.core.model import (
    NULL_VERSION,
    Bucket,
    BucketAcl,
    ChangeKind,
    ObjectAcl,
    ObjectChange,
    ObjectVersion,
    ReplicationState,
    Versioning,
)
from ferry.core.multipart import UploadClaim
from ferry.storage import sqlite_multipart
from ferry.storage.inline_blobs import SCHEMA as INLINE_SCHEMA
from ferry.storage.inline_blobs import is_inline
from ferry.storage.interfaces import (
    AccessKey,
    BucketStats,
    ChangeHook,
    CommitResult,
    NewVersion,
    ReplicaWrite,
)
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_rows import (
    SCHEMA,
    VERSION_COLUMNS,
    dumps,
    encryption_json,
    new_version_id,
    prefix_upper_bound,
    row_to_bucket,
    row_to_version,
)
from ferry.storage.sqlite_writer import GroupWriter

T = TypeVar("T")
Pending = list[Callable[[], None]]


class SqliteMetadataStore:
    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.db = SqliteDatabase(path, durable=durable)
        self.db.executescript(SCHEMA + INLINE_SCHEMA)
        # Completing an upload removes it in the transaction that commits its object.
        self.db.executescript(sqlite_multipart.SCHEMA)
        self._conn = self.db.conn
        self._write = self.db.write
        self._hooks: list[tuple[ChangeHook, Callable[[], None]]] = []
        self._writer: GroupWriter | None = None
        # Every request reads its bucket; buckets change only through this store's methods
        # below (each drops its entry), so the cache never outlives a change.
        self._buckets: dict[str, Bucket] = {}
        self._writer_lock = threading.Lock()

    def add_change_hook(self, hook: ChangeHook, on_queued: Callable[[], None]) -> None:
        self._hooks.append((hook, on_queued))

    def _group_writer(self) -> GroupWriter:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = GroupWriter(self.db)
        return self._writer

    def _submit(self, fn: Callable[[sqlite3.Connection, Pending], T]) -> Future[T]:
        """Run ``fn`` in a (grouped) write transaction; once it is durable, wake whoever it
        queued work for, then complete the future."""
        pending: Pending = []

        def work(db: sqlite3.Connection) -> T:
            return fn(db, pending)

        def after(_: T) -> None:
            for notify in dict.fromkeys(pending):
                notify()

        return self._group_writer().submit(work, after)

    def _mutate(self, fn: Callable[[sqlite3.Connection, Pending], T]) -> T:
        return self._submit(fn).result()

    def _changed(self, db: sqlite3.Connection, pending: Pending, change: ObjectChange) -> bool:
        """Run the change hooks; True when one of them queued work (and may have marked the row)."""
        queued = False
        for hook, on_queued in self._hooks:
            if hook(db, change):
                pending.append(on_queued)
                queued = True
        return queued

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.db.close()

    # --- access keys --------------------------------------------------------

    def put_access_key(self, key: AccessKey) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO access_keys (access_key_id, secret, account_id) VALUES (?, ?, ?) "
                "ON CONFLICT (access_key_id) DO UPDATE SET secret = excluded.secret, "
                "account_id = excluded.account_id",
                (key.access_key_id, key.secret, key.account_id),
            )

    def get_access_key(self, access_key_id: str) -> AccessKey | None:
        row = (
            self._conn()
            .execute("SELECT * FROM access_keys WHERE access_key_id = ?", (access_key_id,))
            .fetchone()
        )
        if row is None:
            return None
        return AccessKey(row["access_key_id"], row["secret"], row["account_id"])

    # --- buckets ------------------------------------------------------------

    def create_bucket(self, bucket: Bucket) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket.name,)).fetchone():
                raise OssError("BucketAlreadyExists", BucketName=bucket.name)
            db.execute(
                "INSERT INTO buckets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bucket.name,
                    bucket.owner_id,
                    bucket.region,
                    bucket.created_at,
                    bucket.acl.value,
                    bucket.storage_class.value,
                    bucket.versioning.value,
                    bucket.data_redundancy,
                ),
            )
        self._buckets.pop(bucket.name, None)

    def get_bucket(self, name: str) -> Bucket | None:
        cached = self._buckets.get(name)
        if cached is not None:
            return cached
        row = self._conn().execute("SELECT * FROM buckets WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        bucket = self._buckets[name] = row_to_bucket(row)
        return bucket

    def list_buckets(self, owner_id: str, prefix: str, marker: str, limit: int) -> list[Bucket]:
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM buckets WHERE owner_id = ? AND name > ? AND substr(name, 1, ?) = ? "
                "ORDER BY name LIMIT ?",
                (owner_id, marker, len(prefix), prefix, limit),
            )
            .fetchall()
        )
        return [row_to_bucket(r) for r in rows]

    def delete_bucket(self, name: str) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM versions WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise OssError("BucketNotEmpty", BucketName=name)
            if sqlite_multipart.count_uploads(db, name):
                # Their parts hold bytes: OSS wants them aborted (or completed) first.
                raise OssError(
                    "BucketNotEmpty", "The bucket has multipart uploads in progress.", BucketName=name
                )
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
        self._buckets.pop(name, None)

    def set_bucket_acl(self, name: str, acl: BucketAcl) -> None:
        with self._write() as db:
            db.execute("UPDATE buckets SET acl = ? WHERE name = ?", (acl.value, name))
        self._buckets.pop(name, None)

    def set_bucket_versioning(self, name: str, versioning: Versioning) -> None:
        with self._write() as db:
            db.execute("UPDATE buckets SET versioning = ? WHERE name = ?", (versioning.value, name))
        self._buckets.pop(name, None)

    def bucket_stats(self, name: str) -> BucketStats:
        db = self._conn()
        row = db.execute(
            "SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(max(created_at), 0) AS last "
            "FROM versions WHERE bucket = ? AND is_delete_marker = 0",
            (name,),
        ).fetchone()
        return BucketStats(
            object_count=row["n"],
            storage_bytes=row["bytes"],
            multipart_upload_count=sqlite_multipart.count_uploads(db, name),
            last_modified=row["last"],
        )

    # --- objects ------------------------------------------------------------

    def get_version(self, bucket: str, key: str, version_id: str | None) -> ObjectVersion | None:
        db = self._conn()
        if version_id is None:
            row = db.execute(
                f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND is_latest = 1",
                (bucket, key),
            ).fetchone()
        else:
            row = db.execute(
                f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id),
            ).fetchone()
        return row_to_version(row) if row else None

    def commit_version(
        self,
        new: NewVersion,
        versioning: Versioning,
        *,
        upload: UploadClaim | None = None,
        expect_latest: int | None = None,
    ) -> CommitResult:
        return self.submit_version(new, versioning, upload=upload, expect_latest=expect_latest).result()

    def submit_version(
        self,
        new: NewVersion,
        versioning: Versioning,
        *,
        upload: UploadClaim | None = None,
        expect_latest: int | None = None,
    ) -> Future[CommitResult]:
        def commit(db: sqlite3.Connection, pending: Pending) -> CommitResult:
            if expect_latest is not None and self._live_seq(db, new.bucket, new.key) != expect_latest:
                raise OssError("PreconditionFailed", "The object changed while it was being written.")
            parts = sqlite_multipart.take_upload(db, upload) if upload is not None else []
            result = self._commit_version(db, pending, new, versioning)
            return CommitResult(result.version, [*result.freed_blob_ids, *parts])

        return self._submit(commit)

    def _live_seq(self, db: sqlite3.Connection, bucket: str, key: str) -> int:
        """The seq of the key's latest version; 0 when there is none or it is a delete marker."""
        row = db.execute(
            "SELECT seq, is_delete_marker FROM versions WHERE bucket = ? AND key = ? AND is_latest = 1",
            (bucket, key),
        ).fetchone()
        return 0 if row is None or row["is_delete_marker"] else int(row["seq"])

    def _commit_version(
        self,
        db: sqlite3.Connection,
        pending: Pending,
        new: NewVersion,
        versioning: Versioning,
        *,
        latest: bool = True,
        source_seq: int = 0,
        meta_seq: int = 0,
    ) -> CommitResult:
        freed: list[str] = []
        if new.version_id is not None:
            version_id = new.version_id
        elif versioning is Versioning.ENABLED:
            version_id = new_version_id()
        else:
            version_id = NULL_VERSION
        # The version being replaced by id (an unversioned overwrite, a suspended-mode
        # write, or a replayed replica) gives up its bytes.
        replaced = db.execute(
            "SELECT blob_id FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
            (new.bucket, new.key, version_id),
        ).fetchone()
        if replaced is not None:
            if replaced["blob_id"] != new.blob_id:
                freed += _release_blob(db, replaced["blob_id"])
            db.execute(
                "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                (new.bucket, new.key, version_id),
            )
        if latest:
            db.execute(
                "UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1",
                (new.bucket, new.key),
            )
        if new.inline_data is not None:
            insert = "INSERT INTO inline_blobs (blob_id, data) VALUES (?, ?)"
            db.execute(insert, (new.blob_id, new.inline_data))
        cur = db.execute(
            f"INSERT INTO versions ({VERSION_COLUMNS.removeprefix('seq, ')}, source_seq, meta_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.bucket,
                new.key,
                version_id,
                new.created_at,
                int(latest),
                int(new.is_delete_marker),
                new.size,
                new.etag,
                new.crc64,
                new.blob_id,
                dumps(new.content_headers),
                dumps(new.user_meta),
                new.acl.value,
                new.storage_class,
                new.object_type,
                dumps(new.tags),
                ReplicationState.REPLICA.value if new.replica else ReplicationState.NONE.value,
                new.owner_id,
                encryption_json(new.encryption),
                source_seq,
                meta_seq,
            ),
        )
        seq = cur.lastrowid
        select = f"SELECT {VERSION_COLUMNS} FROM versions WHERE seq = ?"
        written = row_to_version(db.execute(select, (seq,)).fetchone())
        kind = ChangeKind.DELETE_MARKER if new.is_delete_marker else ChangeKind.PUT
        if self._changed(db, pending, ObjectChange(kind, written, new.created_at, replica=new.replica)):
            # A hook that queued work marked the version (replication PENDING): read it again.
            written = row_to_version(db.execute(select, (seq,)).fetchone())
        return CommitResult(version=written, freed_blob_ids=freed)

    def delete_version(
        self, bucket: str, key: str, version_id: str, kind: ChangeKind = ChangeKind.DELETE_VERSION
    ) -> CommitResult | None:
        return self._mutate(
            lambda db, pending: self._delete_version(db, pending, bucket, key, version_id, kind)
        )

    def _delete_version(
        self,
        db: sqlite3.Connection,
        pending: Pending,
        bucket: str,
        key: str,
        version_id: str,
        kind: ChangeKind,
        *,
        replica: bool = False,
        at: float | None = None,
    ) -> CommitResult | None:
        row = db.execute(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, version_id),
        ).fetchone()
        if row is None:
            return None
        gone = row_to_version(row)
        db.execute("DELETE FROM versions WHERE seq = ?", (gone.seq,))
        if gone.is_latest:
            # Replicas order by the source's creation order (they may arrive out of order).
            db.execute(
                "UPDATE versions SET is_latest = 1 WHERE seq = (SELECT seq FROM versions "
                "WHERE bucket = ? AND key = ? ORDER BY source_seq DESC, seq DESC LIMIT 1)",
                (bucket, key),
            )
        self._changed(
            db, pending, ObjectChange(kind, gone, at if at is not None else gone.created_at, replica)
        )
        return CommitResult(version=gone, freed_blob_ids=_release_blob(db, gone.blob_id))

    def set_object_acl(self, bucket: str, key: str, version_id: str, acl: ObjectAcl, at: float) -> None:
        self._update_metadata(bucket, key, version_id, "acl", acl.value, at)

    def set_object_tags(
        self, bucket: str, key: str, version_id: str, tags: Mapping[str, str], at: float
    ) -> None:
        self._update_metadata(bucket, key, version_id, "tags", dumps(tags), at)

    def _update_metadata(
        self, bucket: str, key: str, version_id: str, column: str, value: str, at: float
    ) -> None:
        """Change one metadata column of a version in place: a metadata-only change to replicate."""
        assert column in ("acl", "tags")  # never a caller-chosen name in the SQL

        def change(db: sqlite3.Connection, pending: Pending) -> None:
            db.execute(
                f"UPDATE versions SET {column} = ? WHERE bucket = ? AND key = ? AND version_id = ?",
                (value, bucket, key, version_id),
            )
            row = db.execute(
                f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id),
            ).fetchone()
            if row is not None:
                version = row_to_version(row)
                self._changed(db, pending, ObjectChange(ChangeKind.PUT, version, at, metadata_only=True))

        self._mutate(change)

    # --- replicas (the destination side of replication) ------------------------

    def _applied_seq(self, db: sqlite3.Connection, bucket: str, key: str, source: str) -> int:
        row = db.execute(
            "SELECT applied_seq FROM replica_keys WHERE bucket = ? AND key = ? AND source = ?",
            (bucket, key, source),
        ).fetchone()
        return int(row["applied_seq"]) if row else 0

    def _set_applied(self, db: sqlite3.Connection, bucket: str, key: str, origin: ReplicaWrite) -> None:
        db.execute(
            "INSERT INTO replica_keys VALUES (?, ?, ?, ?) ON CONFLICT (bucket, key, source) "
            "DO UPDATE SET applied_seq = max(applied_seq, excluded.applied_seq)",
            (bucket, key, origin.source, origin.seq),
        )

    def commit_replica(
        self, new: NewVersion, versioning: Versioning, origin: ReplicaWrite
    ) -> CommitResult | None:
        return self.submit_replica(new, versioning, origin).result()

    def submit_replica(
        self, new: NewVersion, versioning: Versioning, origin: ReplicaWrite
    ) -> Future[CommitResult | None]:
        return self._submit(lambda db, pending: self._commit_replica(db, pending, new, versioning, origin))

    def _commit_replica(
        self,
        db: sqlite3.Connection,
        pending: Pending,
        new: NewVersion,
        versioning: Versioning,
        origin: ReplicaWrite,
    ) -> CommitResult | None:
        applied = self._applied_seq(db, new.bucket, new.key, origin.source)
        if new.version_id is None or new.version_id == NULL_VERSION:
            if origin.seq <= applied:
                return None  # a later change of this key is already here
            self._set_applied(db, new.bucket, new.key, origin)
            return self._commit_version(
                db, pending, new, versioning, source_seq=origin.version_seq, meta_seq=origin.seq
            )
        existing = db.execute(
            "SELECT seq, meta_seq, size, etag, crc64 FROM versions "
            "WHERE bucket = ? AND key = ? AND version_id = ?",
            (new.bucket, new.key, new.version_id),
        ).fetchone()
        if existing is None and self._has_or_had(db, new.bucket, new.key, new.version_id):
            return None  # deleted here by replication already
        if existing is not None and existing["meta_seq"] >= origin.seq:
            return None
        same_bytes = existing is not None and (existing["size"], existing["etag"], existing["crc64"]) == (
            new.size,
            new.etag,
            new.crc64,
        )
        if existing is not None and same_bytes:
            # The same version again with a later change: its metadata (ACL, tags) changed.
            db.execute(
                "UPDATE versions SET acl = ?, tags = ?, user_meta = ?, content_headers = ?, meta_seq = ? "
                "WHERE seq = ?",
                (
                    new.acl.value,
                    dumps(new.tags),
                    dumps(new.user_meta),
                    dumps(new.content_headers),
                    origin.seq,
                    existing["seq"],
                ),
            )
            row = db.execute(
                f"SELECT {VERSION_COLUMNS} FROM versions WHERE seq = ?", (existing["seq"],)
            ).fetchone()
            # The bytes sent along are not needed (an inline blob was never stored).
            unused = [] if not new.blob_id or is_inline(new.blob_id) else [new.blob_id]
            return CommitResult(version=row_to_version(row), freed_blob_ids=unused)
        # A version replicated late (after a newer one) is kept, but does not become latest:
        # versions of a key are ordered by their creation at the source, not by arrival.
        # (A version whose bytes changed in place -- an append -- is replaced the same way.)
        latest = origin.version_seq > self._newest_source_seq(db, new.bucket, new.key)
        return self._commit_version(
            db, pending, new, versioning, latest=latest, source_seq=origin.version_seq, meta_seq=origin.seq
        )

    def _has_or_had(self, db: sqlite3.Connection, bucket: str, key: str, version_id: str) -> bool:
        return (
            db.execute(
                "SELECT 1 FROM versions WHERE bucket = ? AND key = ? AND version_id = ? UNION ALL "
                "SELECT 1 FROM replica_tombstones WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id, bucket, key, version_id),
            ).fetchone()
            is not None
        )

    def _newest_source_seq(self, db: sqlite3.Connection, bucket: str, key: str) -> int:
        row = db.execute(
            "SELECT coalesce(max(source_seq), 0) AS s FROM versions WHERE bucket = ? AND key = ?",
            (bucket, key),
        ).fetchone()
        return int(row["s"])

    def delete_replica(
        self, bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite, at: float
    ) -> CommitResult | None:
        def apply(db: sqlite3.Connection, pending: Pending) -> CommitResult | None:
            applied = self._applied_seq(db, bucket, key, origin.source)
            if kind is ChangeKind.DELETE_VERSION and version_id is not None:
                db.execute(
                    "INSERT OR IGNORE INTO replica_tombstones VALUES (?, ?, ?)", (bucket, key, version_id)
                )
                return self._delete_version(db, pending, bucket, key, version_id, kind, replica=True, at=at)
            if kind is ChangeKind.DELETE:
                if origin.seq <= applied:
                    return None
                self._set_applied(db, bucket, key, origin)
                return self._delete_version(db, pending, bucket, key, NULL_VERSION, kind, replica=True, at=at)
            # A delete marker, with the source's version id ('null' in a suspended bucket, where
            # it replaces the null version like an unversioned write does).
            marker_id = version_id or NULL_VERSION
            if marker_id == NULL_VERSION:
                if origin.seq <= applied:
                    return None
                self._set_applied(db, bucket, key, origin)
            elif self._has_or_had(db, bucket, key, marker_id):
                return None
            marker = NewVersion(
                bucket=bucket,
                key=key,
                created_at=at,
                is_delete_marker=True,
                version_id=marker_id,
                replica=True,
            )
            latest = origin.version_seq > self._newest_source_seq(db, bucket, key)
            return self._commit_version(
                db,
                pending,
                marker,
                Versioning.ENABLED,
                latest=latest,
                source_seq=origin.version_seq,
                meta_seq=origin.seq,
            )

        return self._mutate(apply)

    def list_latest(
        self, bucket: str, prefix: str, after: str, limit: int, *, inclusive: bool = False
    ) -> list[ObjectVersion]:
        lower = ">=" if inclusive else ">"
        sql = (
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND is_latest = 1 "
            f"AND is_delete_marker = 0 AND key {lower} ? AND key >= ?"
        )
        args: list[object] = [bucket, after, prefix]
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        rows = self._conn().execute(sql + " ORDER BY key LIMIT ?", (*args, limit)).fetchall()
        return [row_to_version(r) for r in rows]

    def list_versions(
        self, bucket: str, prefix: str, after: str, limit: int, *, inclusive: bool = False
    ) -> list[ObjectVersion]:
        """Every version and delete marker with the prefix from key ``after`` on, by key and then
        newest first (replicas by their source's order)."""
        lower = ">=" if inclusive else ">"
        sql = f"SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ? AND key {lower} ? AND key >= ?"
        args: list[object] = [bucket, after, prefix]
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        sql += " ORDER BY key, source_seq DESC, seq DESC LIMIT ?"
        rows = self._conn().execute(sql, (*args, limit)).fetchall()
        return [row_to_version(r) for r in rows]


def _release_blob(db: sqlite3.Connection, blob_id: str) -> list[str]:
    """A blob no version refers to any more: an inline one goes now, in this transaction;
    a disk blob is returned for the caller to delete after the commit."""
    if not blob_id:
        return []
    if is_inline(blob_id):
        db.execute("DELETE FROM inline_blobs WHERE blob_id = ?", (blob_id,))
        return []
    return [blob_id]
