"""Multipart uploads and their parts in the region's SQLite database.

The tables live in the same file as the object versions, so completing an upload (removing
it and its parts) and committing the object it became are one transaction: see
:func:`take_upload`, which :class:`~ferry.storage.sqlite_meta.SqliteMetadataStore` runs inside
``commit_version``.  A part's bytes are a blob of their own; every method that drops a part
row returns the blob ids to delete after the commit, never before, so a crash can leave an
unreferenced blob but never a row pointing at missing bytes.
"""

from __future__ import annotations

import json
import sqlite3

from ferry.core.errors import OssError
from ferry.core.model import ObjectAcl, StorageClass
from ferry.core.multipart import MultipartUpload, Part, UploadClaim
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_rows import dumps, encryption_from, encryption_json, prefix_upper_bound

SCHEMA = """
CREATE TABLE IF NOT EXISTS multipart_uploads (
    upload_id        TEXT PRIMARY KEY,
    bucket           TEXT NOT NULL,
    key              TEXT NOT NULL,
    initiated_at     REAL NOT NULL,
    owner_id         TEXT NOT NULL,
    content_headers  TEXT NOT NULL,
    user_meta        TEXT NOT NULL,
    acl              TEXT NOT NULL,
    storage_class    TEXT NOT NULL,
    tags             TEXT NOT NULL,
    encryption       TEXT NOT NULL,      -- JSON of core.encryption.Encryption, '' if none
    sequential       INTEGER NOT NULL,
    forbid_overwrite INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS multipart_uploads_by_key ON multipart_uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS multipart_parts (
    upload_id   TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    crc64       TEXT NOT NULL,          -- decimal: a CRC-64 does not fit SQLite's signed INTEGER
    blob_id     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    iv          TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""


def _row_to_upload(row: sqlite3.Row) -> MultipartUpload:
    return MultipartUpload(
        upload_id=row["upload_id"],
        bucket=row["bucket"],
        key=row["key"],
        initiated_at=row["initiated_at"],
        owner_id=row["owner_id"],
        content_headers=json.loads(row["content_headers"]),
        user_meta=json.loads(row["user_meta"]),
        acl=ObjectAcl(row["acl"]),
        storage_class=StorageClass(row["storage_class"]),
        tags=json.loads(row["tags"]),
        encryption=encryption_from(row["encryption"]),
        sequential=bool(row["sequential"]),
        forbid_overwrite=bool(row["forbid_overwrite"]),
    )


def _row_to_part(row: sqlite3.Row) -> Part:
    return Part(
        part_number=row["part_number"],
        size=row["size"],
        etag=row["etag"],
        crc64=int(row["crc64"]),
        blob_id=row["blob_id"],
        created_at=row["created_at"],
        iv=row["iv"],
    )


def _find(db: sqlite3.Connection, bucket: str, key: str, upload_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM multipart_uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
        (upload_id, bucket, key),
    ).fetchone()
    return row


def _no_such_upload(upload_id: str) -> OssError:
    return OssError("NoSuchUpload", UploadId=upload_id)


def _drop(db: sqlite3.Connection, upload_id: str) -> list[str]:
    blobs = [
        r["blob_id"]
        for r in db.execute("SELECT blob_id FROM multipart_parts WHERE upload_id = ?", (upload_id,))
    ]
    db.execute("DELETE FROM multipart_parts WHERE upload_id = ?", (upload_id,))
    db.execute("DELETE FROM multipart_uploads WHERE upload_id = ?", (upload_id,))
    return blobs


def take_upload(db: sqlite3.Connection, claim: UploadClaim) -> list[str]:
    """Inside the completing transaction: remove the upload; the blobs of all its parts.

    Raises NoSuchUpload when it is gone (aborted or completed meanwhile) and InvalidPart when
    a claimed part no longer has the blob the object was built from (uploaded again meanwhile).
    """
    if _find(db, claim.bucket, claim.key, claim.upload_id) is None:
        raise _no_such_upload(claim.upload_id)
    current = {
        r["part_number"]: r["blob_id"]
        for r in db.execute(
            "SELECT part_number, blob_id FROM multipart_parts WHERE upload_id = ?", (claim.upload_id,)
        )
    }
    for number, blob_id in claim.part_blobs.items():
        if current.get(number) != blob_id:
            raise OssError("InvalidPart", f"Part {number} changed while the upload was completed.")
    return _drop(db, claim.upload_id)


def count_uploads(db: sqlite3.Connection, bucket: str) -> int:
    row = db.execute("SELECT count(*) AS n FROM multipart_uploads WHERE bucket = ?", (bucket,)).fetchone()
    return int(row["n"])


class SqliteMultipartStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.executescript(SCHEMA)

    def create_upload(self, upload: MultipartUpload) -> None:
        """Raises NoSuchBucket when the bucket is gone (deleted since the request came in)."""
        with self._db.write() as db:
            if db.execute("SELECT 1 FROM buckets WHERE name = ?", (upload.bucket,)).fetchone() is None:
                raise OssError("NoSuchBucket", BucketName=upload.bucket)
            db.execute(
                "INSERT INTO multipart_uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id,
                    upload.bucket,
                    upload.key,
                    upload.initiated_at,
                    upload.owner_id,
                    dumps(upload.content_headers),
                    dumps(upload.user_meta),
                    upload.acl.value,
                    upload.storage_class.value,
                    dumps(upload.tags),
                    encryption_json(upload.encryption),
                    int(upload.sequential),
                    int(upload.forbid_overwrite),
                ),
            )

    def get_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload | None:
        row = _find(self._db.conn(), bucket, key, upload_id)
        return _row_to_upload(row) if row is not None else None

    def put_part(
        self, bucket: str, key: str, upload_id: str, part: Part, *, in_order: bool = False
    ) -> list[str]:
        """Record a part, replacing one with the same number; the blobs that are no longer used.

        Raises NoSuchUpload when the upload is gone; with ``in_order`` PartNotSequential unless
        the part is one already uploaded or the next one after the highest.
        """
        with self._db.write() as db:
            if _find(db, bucket, key, upload_id) is None:
                raise _no_such_upload(upload_id)
            if in_order:
                row = db.execute(
                    "SELECT coalesce(max(part_number), 0) AS top FROM multipart_parts WHERE upload_id = ?",
                    (upload_id,),
                ).fetchone()
                if part.part_number > row["top"] + 1:
                    raise OssError("PartNotSequential", PartNumber=str(part.part_number))
            old = db.execute(
                "SELECT blob_id FROM multipart_parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, part.part_number),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO multipart_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload_id,
                    part.part_number,
                    part.size,
                    part.etag,
                    str(part.crc64),
                    part.blob_id,
                    part.created_at,
                    part.iv,
                ),
            )
        return [old["blob_id"]] if old is not None and old["blob_id"] != part.blob_id else []

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[Part]:
        rows = (
            self._db.conn()
            .execute(
                "SELECT * FROM multipart_parts WHERE upload_id = ? AND part_number > ? "
                "ORDER BY part_number LIMIT ?",
                (upload_id, after, limit),
            )
            .fetchall()
        )
        return [_row_to_part(r) for r in rows]

    def list_uploads(
        self, bucket: str, prefix: str, after_key: str, after_upload_id: str, limit: int
    ) -> list[MultipartUpload]:
        """Uploads with the prefix after (after_key, after_upload_id), by key and then upload id.

        An empty ``after_upload_id`` starts at ``after_key`` itself; pass one above every id
        (``"~"``) to start after all uploads of ``after_key``.
        """
        sql = "SELECT * FROM multipart_uploads WHERE bucket = ? AND (key, upload_id) > (?, ?) AND key >= ?"
        args: list[object] = [bucket, after_key, after_upload_id, prefix]
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        rows = self._db.conn().execute(sql + " ORDER BY key, upload_id LIMIT ?", (*args, limit)).fetchall()
        return [_row_to_upload(r) for r in rows]

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> list[str]:
        """Remove the upload and its parts; the part blobs to delete.  NoSuchUpload when absent."""
        with self._db.write() as db:
            if _find(db, bucket, key, upload_id) is None:
                raise _no_such_upload(upload_id)
            return _drop(db, upload_id)

    def uploads_started_before(self, id_prefix: str, before: float, limit: int) -> list[tuple[str, str, str]]:
        # The primary key's index serves the id range; few uploads are ever this old.
        rows = (
            self._db.conn()
            .execute(
                "SELECT bucket, key, upload_id FROM multipart_uploads "
                "WHERE upload_id >= ? AND upload_id < ? AND initiated_at < ? LIMIT ?",
                (id_prefix, id_prefix + "\uffff", before, limit),
            )
            .fetchall()
        )
        return [(r["bucket"], r["key"], r["upload_id"]) for r in rows]
