"""Same-region replication: the destination bucket is in this region's own stores."""

from __future__ import annotations

from collections.abc import Callable

from ferry.core.model import NULL_VERSION, Bucket, ChangeKind, StagedBlob
from ferry.replication.targets import ReplicaSource, TargetError
from ferry.service.kms import KeyService
from ferry.service.replicas import ReplicaAttrs, ReplicaService
from ferry.storage.blobs import BlobRef, BlobStore
from ferry.storage.interfaces import ReplicaWrite


class LocalTarget:
    def __init__(
        self,
        find_bucket: Callable[[str], Bucket | None],
        blobs: BlobStore,
        replicas: ReplicaService,
        kms: KeyService,
    ) -> None:
        self._find_bucket = find_bucket
        self._blobs = blobs
        self._replicas = replicas
        self._kms = kms

    def _bucket(self, name: str) -> Bucket:
        bucket = self._find_bucket(name)
        if bucket is None:
            raise TargetError(f"NoSuchBucket: the destination bucket {name} does not exist")
        return bucket

    def put(self, dest_bucket: str, source: ReplicaSource, origin: ReplicaWrite) -> None:
        bucket = self._bucket(dest_bucket)
        version = source.version
        # A hard link: committed blobs are never modified in place, so sharing bytes is safe.
        blob = self._blobs.link_copy(version.blob_id) if version.blob_id else self._empty_blob()
        staged = StagedBlob(
            blob_id=blob.blob_id,
            size=version.size,
            md5_hex="",
            crc64=int(version.crc64 or 0),
            inline=blob.inline,
        )
        encryption = version.encryption
        if encryption is not None and source.encryption is not None:
            # Same bytes, same data key: only the key that wraps it changes (ReplicaKmsKeyID).
            encryption = self._kms.rewrap(encryption, *source.encryption)
        attrs = ReplicaAttrs(
            etag=version.etag,
            crc64=version.crc64,
            version_id=None if version.version_id == NULL_VERSION else version.version_id,
            object_type=version.object_type,
            storage_class=version.storage_class,
            acl=version.acl,
            content_headers=version.content_headers,
            user_meta=version.user_meta,
            tags=version.tags,
            encryption=encryption,
        )
        self._replicas.put(bucket, version.key, staged, attrs, origin)

    def _empty_blob(self) -> BlobRef:
        staged = self._blobs.open_writer(small=True).finish()
        return BlobRef(staged.blob_id, staged.inline)

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None:
        bucket = self._bucket(dest_bucket)
        self._replicas.delete(bucket, key, kind, None if version_id == NULL_VERSION else version_id, origin)
