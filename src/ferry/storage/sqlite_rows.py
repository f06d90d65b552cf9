"""The SQLite schema of a region's metadata and the mapping between rows and domain values."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Mapping

from ferry.core.encryption import Encryption, SseAlgorithm
from ferry.core.model import (
    Bucket,
    BucketAcl,
    ObjectAcl,
    ObjectType,
    ObjectVersion,
    ReplicationState,
    StorageClass,
    Versioning,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    account_id    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS buckets (
    name            TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL,
    region          TEXT NOT NULL,
    created_at      REAL NOT NULL,
    acl             TEXT NOT NULL,
    storage_class   TEXT NOT NULL,
    versioning      TEXT NOT NULL,
    data_redundancy TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket           TEXT NOT NULL,
    key              TEXT NOT NULL,
    version_id       TEXT NOT NULL,
    created_at       REAL NOT NULL,
    is_latest        INTEGER NOT NULL,
    is_delete_marker INTEGER NOT NULL,
    size             INTEGER NOT NULL,
    etag             TEXT NOT NULL,
    crc64            TEXT NOT NULL,
    blob_id          TEXT NOT NULL,
    content_headers  TEXT NOT NULL,
    user_meta        TEXT NOT NULL,
    acl              TEXT NOT NULL,
    storage_class    TEXT NOT NULL,
    object_type      TEXT NOT NULL,
    tags             TEXT NOT NULL,
    replication      TEXT NOT NULL,
    owner_id         TEXT NOT NULL,
    encryption       TEXT NOT NULL DEFAULT '',   -- JSON of core.encryption.Encryption, '' if none
    source_seq       INTEGER NOT NULL DEFAULT 0,  -- replicas: the source version's creation seq
    meta_seq         INTEGER NOT NULL DEFAULT 0   -- replicas: the source's last metadata change seq
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_key ON versions (bucket, key, version_id);
CREATE INDEX IF NOT EXISTS versions_latest ON versions (bucket, key) WHERE is_latest = 1;
-- Versions deleted by replication: a late or retried copy of one must not bring it back.
CREATE TABLE IF NOT EXISTS replica_tombstones (
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    version_id TEXT NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
);
-- The newest replicated change applied per key and source: older retries are dropped.
CREATE TABLE IF NOT EXISTS replica_keys (
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    source      TEXT NOT NULL,
    applied_seq INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, source)
);
"""

VERSION_COLUMNS = (
    "seq, bucket, key, version_id, created_at, is_latest, is_delete_marker, size, etag, crc64, "
    "blob_id, content_headers, user_meta, acl, storage_class, object_type, tags, replication, owner_id, "
    "encryption"
)


def new_version_id() -> str:
    """An opaque version id in the style of OSS's (base64, starts with ``CAEQ``)."""
    return "CAEQ" + base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")


_ACLS = {m.value: m for m in ObjectAcl}
_CLASSES = {m.value: m for m in StorageClass}
_TYPES = {m.value: m for m in ObjectType}
_STATES = {m.value: m for m in ReplicationState}


def _json_map(text: str) -> dict[str, str]:
    # Most versions carry no metadata or tags: skip the decoder for the empty document.
    if text == "{}":
        return {}
    loaded: dict[str, str] = json.loads(text)
    return loaded


def row_to_version(row: sqlite3.Row) -> ObjectVersion:
    return ObjectVersion(
        bucket=row["bucket"],
        key=row["key"],
        version_id=row["version_id"],
        seq=row["seq"],
        created_at=row["created_at"],
        is_latest=bool(row["is_latest"]),
        is_delete_marker=bool(row["is_delete_marker"]),
        size=row["size"],
        etag=row["etag"],
        crc64=row["crc64"],
        blob_id=row["blob_id"],
        content_headers=_json_map(row["content_headers"]),
        user_meta=_json_map(row["user_meta"]),
        acl=_ACLS[row["acl"]],
        storage_class=_CLASSES[row["storage_class"]],
        object_type=_TYPES[row["object_type"]],
        tags=_json_map(row["tags"]),
        replication=_STATES[row["replication"]],
        owner_id=row["owner_id"],
        encryption=encryption_from(row["encryption"]),
    )


def encryption_from(text: str) -> Encryption | None:
    if not text:
        return None
    raw = json.loads(text)
    return Encryption(
        SseAlgorithm(raw["algorithm"]),
        raw["key_id"],
        raw["wrapped_key"],
        raw["iv"],
        raw.get("data_encryption", ""),
    )


def encryption_json(info: Encryption | None) -> str:
    if info is None:
        return ""
    fields = {
        "algorithm": info.algorithm.value,
        "key_id": info.key_id,
        "wrapped_key": info.wrapped_key,
        "iv": info.iv,
    }
    if info.data_encryption:
        fields["data_encryption"] = info.data_encryption
    return json.dumps(fields)


def row_to_bucket(row: sqlite3.Row) -> Bucket:
    return Bucket(
        name=row["name"],
        owner_id=row["owner_id"],
        region=row["region"],
        created_at=row["created_at"],
        acl=BucketAcl(row["acl"]),
        storage_class=StorageClass(row["storage_class"]),
        versioning=Versioning(row["versioning"]),
        data_redundancy=row["data_redundancy"],
    )


def dumps(pairs: tuple[tuple[str, str], ...] | Mapping[str, str]) -> str:
    return json.dumps(dict(pairs), sort_keys=True, ensure_ascii=False)


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix``.

    Code-point order equals UTF-8 byte order, which is how SQLite compares
    TEXT and how OSS orders keys.  None when there is no such bound.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored; skip past them
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    return None
