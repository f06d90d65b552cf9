"""The destination side of replication: apply a replicated write or delete, idempotently.

Whether it came over HTTP (CRR) or from this region's own engine (SRR), a
replicated change is applied here, and only if no later change of the key
from the same source was applied already.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from ferry.core.clock import Clock
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ChangeKind, ObjectAcl, ObjectType, StagedBlob, StorageClass
from ferry.storage.blobs import BlobStore
from ferry.storage.interfaces import CommitResult, MetadataStore, NewVersion, ReplicaWrite


@dataclass(frozen=True)
class ReplicaAttrs:
    """Everything about the source version that the replica must carry."""

    etag: str
    crc64: str
    version_id: str | None
    """The source's version id; None for an unversioned source."""
    object_type: ObjectType = ObjectType.NORMAL
    storage_class: StorageClass = StorageClass.STANDARD
    acl: ObjectAcl = ObjectAcl.DEFAULT
    content_headers: Mapping[str, str] | None = None
    user_meta: Mapping[str, str] | None = None
    tags: Mapping[str, str] | None = None
    encryption: Encryption | None = None
    """How the replica's stored bytes are encrypted (set by whoever staged them)."""


class ReplicaService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, clock: Clock) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    def put(
        self, bucket: Bucket, key: str, staged: StagedBlob, attrs: ReplicaAttrs, origin: ReplicaWrite
    ) -> bool:
        """Apply a replicated version; False when a later change was already here (nothing done)."""
        return self.settle(staged, self.submit_put(bucket, key, staged, attrs, origin))

    def submit_put(
        self, bucket: Bucket, key: str, staged: StagedBlob, attrs: ReplicaAttrs, origin: ReplicaWrite
    ) -> Future[CommitResult | None]:
        """:meth:`put` without waiting for the commit: replicas submitted together (a batch)
        share one transaction and one fsync; :meth:`settle` each once its commit is done.
        Raises at once when the bytes do not match."""
        try:
            if attrs.crc64 and str(staged.crc64) != attrs.crc64:
                raise OssError("InvalidDigest", "The replicated bytes do not match the source's CRC-64.")
            committing = self._store.submit_replica(
                NewVersion(
                    bucket=bucket.name,
                    key=key,
                    created_at=self._clock.now(),
                    size=staged.size,
                    etag=attrs.etag,
                    crc64=attrs.crc64 or str(staged.crc64),
                    blob_id=staged.blob_id,
                    inline_data=staged.inline,
                    content_headers=tuple(sorted((attrs.content_headers or {}).items())),
                    user_meta=tuple(sorted((attrs.user_meta or {}).items())),
                    acl=attrs.acl,
                    storage_class=attrs.storage_class.value,
                    object_type=attrs.object_type.value,
                    tags=tuple(sorted((attrs.tags or {}).items())),
                    owner_id=bucket.owner_id,
                    version_id=attrs.version_id,
                    replica=True,
                    encryption=attrs.encryption,
                ),
                bucket.versioning,
                origin,
            )
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        return committing

    def settle(self, staged: StagedBlob, committing: Future[CommitResult | None]) -> bool:
        """Wait for a submitted replica's commit and free what it leaves unused; whether it applied."""
        try:
            result = committing.result()
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        if result is None:
            self._blobs.delete(staged.blob_id)
            return False
        for blob_id in result.freed_blob_ids:
            self._blobs.delete(blob_id)
        return True

    def delete(
        self, bucket: Bucket, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> bool:
        result = self._store.delete_replica(bucket.name, key, kind, version_id, origin, self._clock.now())
        if result is None:
            return False
        for blob_id in result.freed_blob_ids:
            self._blobs.delete(blob_id)
        return True
