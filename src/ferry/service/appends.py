"""AppendObject: an Appendable object grows by one commit per append.

Each append writes a new blob: the current blob's stored bytes copied in the kernel
(``copy_file_range``), then the new bytes.  Committed blobs are never changed in place —
copies and same-region replicas share them through hard links — so the append never
disturbs a reader or a copy, and the commit swaps the version's blob atomically (the old
one is freed after it).  The commit only succeeds while the version appended to is still
the key's latest, so two appends racing at one position cannot both win.

The object's CRC-64 is combined from the old one and the new bytes' CRC; its ETag is the
MD5 of the bytes after the first append and, after later ones, a digest of the previous
ETag, the new bytes' MD5 and the position (OSS's appendable ETags are not MD5s either).

Versioned buckets, as OSS documents: only a current version that is Appendable can be
appended to, and the append rewrites that version in place (no previous version is kept);
a new Appendable version starts at position 0 where the key has no object or its latest
version is a delete marker.  Every append commits through ``commit_version``, so it
replicates like any write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ferry.core.checksums import crc64_combine
from ferry.core.clock import Clock
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectType, ObjectVersion, StagedBlob
from ferry.core.names import check_object_key
from ferry.service.kms import KeyService, StreamCipher
from ferry.service.objects import ObjectAttrs, check_content_md5, frozen_items
from ferry.storage.blobs import BlobStore, BlobWriter, Transform
from ferry.storage.interfaces import MetadataStore, NewVersion

MAX_APPENDABLE_BYTES = 5 * 1024**3


@dataclass(frozen=True)
class AppendPlan:
    """Where an append goes, decided before its body is read."""

    bucket: Bucket
    key: str
    position: int
    current: ObjectVersion | None
    """The Appendable version appended to; None when the append creates the object."""
    encryption: Encryption | None

    @property
    def creates(self) -> bool:
        return self.current is None


def position_error(next_position: int) -> OssError:
    error = OssError("PositionNotEqualToLength")
    error.headers.append(("x-oss-next-append-position", str(next_position)))
    return error


class AppendService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, kms: KeyService, clock: Clock) -> None:
        self._store = store
        self._blobs = blobs
        self._kms = kms
        self._clock = clock

    def plan(self, bucket: Bucket, key: str, position: int) -> AppendPlan:
        """Check the position against the object as it is now (409s as OSS answers them)."""
        check_object_key(key)
        current = self._store.get_version(bucket.name, key, None)
        if current is None or current.is_delete_marker:
            if position != 0:
                raise position_error(0)
            return AppendPlan(bucket, key, position, None, None)
        if current.object_type is not ObjectType.APPENDABLE:
            raise OssError("ObjectNotAppendable", Key=key)
        if position != current.size:
            raise position_error(current.size)
        return AppendPlan(bucket, key, position, current, current.encryption)

    def with_encryption(self, plan: AppendPlan, encryption: Encryption | None) -> AppendPlan:
        """The encryption a creating append asked for (later appends keep the object's)."""
        if not plan.creates:
            return plan
        return AppendPlan(plan.bucket, plan.key, plan.position, None, encryption)

    def open_writer(self, plan: AppendPlan) -> BlobWriter:
        """A new blob that starts with the current bytes; what is written next is appended.

        Blocking (the kernel copy): run it in an executor.
        """
        transform: Transform | None = None
        if plan.encryption is not None:
            data_key = self._kms.data_key(plan.encryption)
            transform = StreamCipher(data_key, bytes.fromhex(plan.encryption.iv), plan.position)
        writer = self._blobs.open_writer(transform)
        try:
            if plan.current is not None and plan.current.blob_id:
                writer.copy_blob(plan.current.blob_id)
        except BaseException:
            writer.abort()
            raise
        return writer

    def commit(
        self, plan: AppendPlan, staged: StagedBlob, attrs: ObjectAttrs, *, content_md5: str | None = None
    ) -> ObjectVersion:
        """``staged`` describes the appended bytes; ``attrs`` count only when the append creates."""
        try:
            check_content_md5(content_md5, staged)
            size = plan.position + staged.size
            if size > MAX_APPENDABLE_BYTES:
                raise OssError("EntityTooLarge", "An appendable object cannot exceed 5 GB.")
            current = plan.current
            if current is None:
                etag, crc = staged.md5_hex.upper(), staged.crc64
                new = NewVersion(
                    bucket=plan.bucket.name,
                    key=plan.key,
                    created_at=self._clock.now(),
                    size=size,
                    etag=etag,
                    crc64=str(crc),
                    blob_id=staged.blob_id,
                    content_headers=frozen_items(attrs.content_headers),
                    user_meta=frozen_items(attrs.user_meta),
                    acl=attrs.acl,
                    storage_class=(attrs.storage_class or plan.bucket.storage_class).value,
                    object_type=ObjectType.APPENDABLE.value,
                    tags=frozen_items(attrs.tags),
                    owner_id=plan.bucket.owner_id,
                    encryption=plan.encryption,
                )
                expected = 0
            else:
                seed = f"{current.etag}:{staged.md5_hex}:{plan.position}".encode()
                new = NewVersion(
                    bucket=plan.bucket.name,
                    key=plan.key,
                    created_at=self._clock.now(),
                    size=size,
                    etag=hashlib.md5(seed).hexdigest().upper(),
                    crc64=str(crc64_combine(int(current.crc64 or 0), staged.crc64, staged.size)),
                    blob_id=staged.blob_id,
                    content_headers=frozen_items(current.content_headers),
                    user_meta=frozen_items(current.user_meta),
                    acl=current.acl,
                    storage_class=current.storage_class.value,
                    object_type=ObjectType.APPENDABLE.value,
                    tags=frozen_items(current.tags),
                    owner_id=current.owner_id,
                    version_id=current.version_id,
                    encryption=current.encryption,
                )
                expected = current.seq
            result = self._store.commit_version(new, plan.bucket.versioning, expect_latest=expected)
        except OssError as error:
            self._blobs.delete(staged.blob_id)
            if error.code == "PreconditionFailed":
                # Another write got there first: answer as if it had come before this append.
                raise self._conflict(plan) from None
            raise
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        for blob_id in result.freed_blob_ids:
            self._blobs.delete(blob_id)
        return result.version

    def _conflict(self, plan: AppendPlan) -> OssError:
        now = self._store.get_version(plan.bucket.name, plan.key, None)
        if now is None or now.is_delete_marker:
            return position_error(0)
        if now.object_type is not ObjectType.APPENDABLE:
            return OssError("ObjectNotAppendable", Key=plan.key)
        return position_error(now.size)
