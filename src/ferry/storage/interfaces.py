"""The ports the services use to reach storage.

Adapters: :mod:`ferry.storage.sqlite_meta` (metadata), :mod:`ferry.storage.sqlite_multipart`
(multipart uploads and parts), :mod:`ferry.storage.sqlite_restores` (restores of cold
versions) and :mod:`ferry.storage.blobs` (bytes).  A PostgreSQL adapter
implements the same protocol; the contract tests in ``tests/unit/test_metadata_store.py`` say what
every adapter must do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from ferry.core.encryption import Encryption
from ferry.core.model import Bucket, BucketAcl, ChangeKind, ObjectAcl, ObjectChange, ObjectVersion, Versioning
from ferry.core.multipart import MultipartUpload, Part, UploadClaim
from ferry.core.restore import RestoreOutcome, RestoreState

ChangeHook = Callable[[sqlite3.Connection, ObjectChange], bool]
"""Runs inside the transaction that commits a change; True when it queued follow-up work.

This is the transactional outbox: whatever a hook writes commits or rolls back
together with the object change itself.
"""


@dataclass(frozen=True)
class ReplicaWrite:
    """Where a replicated change comes from, so the destination can order and dedupe it."""

    source: str
    """``<region>/<bucket>`` of the source."""
    seq: int
    """The source's sequence number of this change: a larger one is a later change of the key."""
    version_seq: int = 0
    """For a version: the source's sequence number of its creation (orders versions of a key)."""


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret: str = field(repr=False)
    account_id: str


@dataclass(frozen=True)
class BucketStats:
    object_count: int
    storage_bytes: int
    multipart_upload_count: int
    last_modified: float


@dataclass(frozen=True)
class CommitResult:
    version: ObjectVersion
    freed_blob_ids: Sequence[str]
    """Blobs no metadata refers to any more: delete them after the commit."""


@dataclass(frozen=True)
class NewVersion:
    """What a write puts into the store; the store assigns version id, seq and latest-ness."""

    bucket: str
    key: str
    created_at: float
    is_delete_marker: bool = False
    size: int = 0
    etag: str = ""
    crc64: str = ""
    blob_id: str = ""
    content_headers: tuple[tuple[str, str], ...] = ()
    user_meta: tuple[tuple[str, str], ...] = ()
    acl: ObjectAcl = ObjectAcl.DEFAULT
    storage_class: str = "Standard"
    object_type: str = "Normal"
    tags: tuple[tuple[str, str], ...] = ()
    owner_id: str = ""
    version_id: str | None = None
    """Set by replication, which must keep the source's version id, and by AppendObject, which
    rewrites the current version in place (OSS keeps no previous version of an append)."""
    replica: bool = False
    encryption: Encryption | None = None
    inline_data: bytes | None = None
    """The bytes of an inline blob (``blob_id`` is then an inline id): stored in the same commit."""


class MetadataStore(Protocol):
    # --- keys -------------------------------------------------------------
    def put_access_key(self, key: AccessKey) -> None: ...
    def get_access_key(self, access_key_id: str) -> AccessKey | None: ...

    # --- buckets ----------------------------------------------------------
    def create_bucket(self, bucket: Bucket) -> None:
        """Raises OssError BucketAlreadyExists when the name is taken."""
        ...

    def get_bucket(self, name: str) -> Bucket | None: ...
    def list_buckets(self, owner_id: str, prefix: str, marker: str, limit: int) -> list[Bucket]: ...
    def delete_bucket(self, name: str) -> None:
        """Raises OssError BucketNotEmpty when any version remains."""
        ...

    def set_bucket_acl(self, name: str, acl: BucketAcl) -> None: ...
    def set_bucket_versioning(self, name: str, versioning: Versioning) -> None: ...
    def bucket_stats(self, name: str) -> BucketStats: ...

    # --- objects ----------------------------------------------------------
    def get_version(self, bucket: str, key: str, version_id: str | None) -> ObjectVersion | None:
        """The given version, or the latest one (possibly a delete marker) when version_id is None."""
        ...

    def commit_version(
        self,
        new: NewVersion,
        versioning: Versioning,
        *,
        upload: UploadClaim | None = None,
        expect_latest: int | None = None,
    ) -> CommitResult:
        """Write a version (the change hooks run in the same transaction).

        With ``upload``, the multipart upload the version completes is removed in that same
        transaction (NoSuchUpload if it is gone, InvalidPart if a claimed part changed) and the
        blobs of all its parts are in ``freed_blob_ids``.  With ``expect_latest``, the write
        happens only while the key's latest version is the one with that ``seq`` (0: the key
        has no object, or its latest version is a delete marker); else PreconditionFailed.
        """
        ...

    def submit_version(
        self,
        new: NewVersion,
        versioning: Versioning,
        *,
        upload: UploadClaim | None = None,
        expect_latest: int | None = None,
    ) -> Future[CommitResult]:
        """:meth:`commit_version` without waiting: the future completes once the commit is
        durable (so an event loop can await it without a thread of its own)."""
        ...

    def delete_version(
        self, bucket: str, key: str, version_id: str, kind: ChangeKind = ChangeKind.DELETE_VERSION
    ) -> CommitResult | None:
        """Remove one version for good; the next newest becomes latest.  None when absent."""
        ...

    def add_change_hook(self, hook: ChangeHook, on_queued: Callable[[], None]) -> None:
        """Run ``hook`` in every mutating transaction; ``on_queued`` after a commit that queued work."""
        ...

    def commit_replica(
        self, new: NewVersion, versioning: Versioning, origin: ReplicaWrite
    ) -> CommitResult | None:
        """Apply a replicated version unless a later change of the key was applied already (None)."""
        ...

    def submit_replica(
        self, new: NewVersion, versioning: Versioning, origin: ReplicaWrite
    ) -> Future[CommitResult | None]:
        """:meth:`commit_replica` without waiting: replicas submitted together commit together."""
        ...

    def delete_replica(
        self, bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite, at: float
    ) -> CommitResult | None:
        """Apply a replicated delete unless a later change of the key was applied already."""
        ...

    def set_object_acl(self, bucket: str, key: str, version_id: str, acl: ObjectAcl, at: float) -> None: ...
    def set_object_tags(
        self, bucket: str, key: str, version_id: str, tags: Mapping[str, str], at: float
    ) -> None: ...
    def list_versions(
        self, bucket: str, prefix: str, after: str, limit: int, *, inclusive: bool = False
    ) -> list[ObjectVersion]:
        """All versions and delete markers from key ``after`` on: by key, newest first."""
        ...

    def list_latest(
        self, bucket: str, prefix: str, after: str, limit: int, *, inclusive: bool = False
    ) -> list[ObjectVersion]:
        """Latest non-deleted versions with ``key > after`` (``>=`` when inclusive) and the prefix,
        in key order."""
        ...


class MultipartStore(Protocol):
    """Multipart uploads in progress and their parts (completion goes through
    :meth:`MetadataStore.commit_version` with an :class:`UploadClaim`)."""

    def create_upload(self, upload: MultipartUpload) -> None:
        """Raises NoSuchBucket when the bucket does not exist (checked in the same transaction)."""
        ...

    def get_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload | None: ...
    def put_part(
        self, bucket: str, key: str, upload_id: str, part: Part, *, in_order: bool = False
    ) -> list[str]:
        """Record a part (replacing one with the same number); the blob ids no longer used.

        Raises NoSuchUpload; with ``in_order``, PartNotSequential unless the part number is at
        most one above the highest uploaded so far.
        """
        ...

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[Part]:
        """Parts numbered above ``after``, ascending."""
        ...

    def list_uploads(
        self, bucket: str, prefix: str, after_key: str, after_upload_id: str, limit: int
    ) -> list[MultipartUpload]:
        """Uploads with the prefix ordered by (key, upload id), strictly after the pair given."""
        ...

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> list[str]:
        """Remove the upload and its parts; the part blobs to delete.  Raises NoSuchUpload."""
        ...

    def uploads_started_before(self, id_prefix: str, before: float, limit: int) -> list[tuple[str, str, str]]:
        """(bucket, key, upload id) of uploads, in any bucket, whose id starts with the prefix
        and which were initiated before ``before``."""
        ...


class RestoreStore(Protocol):
    """Restores of cold object versions, keyed by the version's ``seq``; a version's restore
    goes when the version goes."""

    def get(self, seq: int) -> RestoreState | None: ...
    def of(self, seqs: Iterable[int]) -> dict[int, RestoreState]:
        """The restores of those versions that have one."""
        ...

    def change(self, seq: int, decide: Callable[[RestoreState | None], RestoreOutcome]) -> RestoreOutcome:
        """Replace the version's restore by what ``decide`` makes of it, atomically."""
        ...
