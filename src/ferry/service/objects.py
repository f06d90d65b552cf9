"""Object use cases: put, get, head, delete, copy, ACL.

Bytes arrive already staged in the blob store (fsynced, renamed); this layer
decides whether they become a version and commits the metadata, then frees
the bytes no version refers to any more.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from ferry.core.clock import Clock
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import (
    NULL_VERSION,
    Bucket,
    ChangeKind,
    ObjectAcl,
    ObjectVersion,
    StagedBlob,
    StorageClass,
    Versioning,
)
from ferry.core.names import check_object_key
from ferry.storage.blobs import BlobRef, BlobStore
from ferry.storage.interfaces import CommitResult, MetadataStore, NewVersion


@dataclass(frozen=True)
class ObjectAttrs:
    """What a writer says about an object besides its bytes."""

    content_headers: Mapping[str, str] = field(default_factory=dict)
    user_meta: Mapping[str, str] = field(default_factory=dict)
    acl: ObjectAcl = ObjectAcl.DEFAULT
    storage_class: StorageClass | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteOutcome:
    key: str
    version_id: str | None
    """The version removed, or the id of the delete marker created."""
    delete_marker: bool
    delete_marker_version_id: str | None = None


def etag_of(staged: StagedBlob) -> str:
    return staged.md5_hex.upper()


def check_content_md5(header: str | None, staged: StagedBlob) -> None:
    if header is None:
        return
    try:
        claimed = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        raise OssError("InvalidDigest", "The Content-MD5 you specified is not valid base64.") from None
    if len(claimed) != 16:
        raise OssError("InvalidDigest", "The Content-MD5 you specified is not 16 bytes long.")
    if claimed.hex() != staged.md5_hex:
        raise OssError("InvalidDigest", "The Content-MD5 you specified did not match what was received.")


def check_not_exists(store: MetadataStore, bucket: Bucket, key: str) -> None:
    """x-oss-forbid-overwrite: FileAlreadyExists when the key has a live object."""
    # OSS ignores x-oss-forbid-overwrite in buckets that have versioning on or suspended.
    if bucket.versioning is not Versioning.OFF:
        return
    current = store.get_version(bucket.name, key, None)
    if current is not None and not current.is_delete_marker:
        raise OssError("FileAlreadyExists", Key=key)


def frozen_items(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))


class ObjectService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, clock: Clock) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    # --- writes -------------------------------------------------------------

    def put(
        self,
        bucket: Bucket,
        key: str,
        staged: StagedBlob,
        attrs: ObjectAttrs,
        *,
        owner_id: str,
        content_md5: str | None = None,
        forbid_overwrite: bool = False,
        encryption: Encryption | None = None,
    ) -> ObjectVersion:
        return self.submit_put(
            bucket,
            key,
            staged,
            attrs,
            owner_id=owner_id,
            content_md5=content_md5,
            forbid_overwrite=forbid_overwrite,
            encryption=encryption,
        ).result()

    def submit_put(
        self,
        bucket: Bucket,
        key: str,
        staged: StagedBlob,
        attrs: ObjectAttrs,
        *,
        owner_id: str,
        content_md5: str | None = None,
        forbid_overwrite: bool = False,
        encryption: Encryption | None = None,
    ) -> Future[ObjectVersion]:
        """Start committing a new version; the future completes once it is durable.

        Raises at once when the request is invalid.  The staged bytes are freed when the
        commit fails; the bytes of a version it replaced once it succeeds."""
        try:
            check_object_key(key)
            check_content_md5(content_md5, staged)
            if forbid_overwrite:
                self._check_not_exists(bucket, key)
            committing = self._store.submit_version(
                NewVersion(
                    bucket=bucket.name,
                    key=key,
                    created_at=self._clock.now(),
                    size=staged.size,
                    etag=etag_of(staged),
                    crc64=str(staged.crc64),
                    blob_id=staged.blob_id,
                    inline_data=staged.inline,
                    content_headers=tuple(sorted(attrs.content_headers.items())),
                    user_meta=tuple(sorted(attrs.user_meta.items())),
                    acl=attrs.acl,
                    storage_class=(attrs.storage_class or bucket.storage_class).value,
                    tags=tuple(sorted(attrs.tags.items())),
                    owner_id=owner_id,
                    encryption=encryption,
                ),
                bucket.versioning,
            )
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        written: Future[ObjectVersion] = Future()

        def settle(committed: Future[CommitResult]) -> None:
            try:
                result = committed.result()
            except BaseException as error:
                self._blobs.delete(staged.blob_id)
                written.set_exception(error)
                return
            try:
                written.set_result(self._finish(result))
            except BaseException as error:  # the version is committed; report what went wrong
                written.set_exception(error)

        committing.add_done_callback(settle)
        return written

    def _check_not_exists(self, bucket: Bucket, key: str) -> None:
        check_not_exists(self._store, bucket, key)

    def _finish(self, result: CommitResult) -> ObjectVersion:
        for blob_id in result.freed_blob_ids:
            self._blobs.delete(blob_id)
        return result.version

    def copy(
        self,
        source_bucket: Bucket,
        source_key: str,
        source_version_id: str | None,
        target: Bucket,
        target_key: str,
        *,
        owner_id: str,
        replace: ObjectAttrs | None,
        acl: ObjectAcl,
        forbid_overwrite: bool = False,
        tags: Mapping[str, str] | None = None,
        storage_class: StorageClass | None = None,
    ) -> tuple[ObjectVersion, ObjectVersion]:
        """Copy within the region; ``replace`` None keeps the source's metadata (COPY directive),
        ``tags`` None keeps the source's tags (the tagging directive is separate), and
        ``storage_class`` (x-oss-storage-class, whatever the directive: how OSS converts an
        object's class in place) None keeps the source's class."""
        check_object_key(target_key)
        source = self.get(source_bucket, source_key, source_version_id)
        if forbid_overwrite:
            self._check_not_exists(target, target_key)
        attrs = replace or ObjectAttrs(
            content_headers=source.content_headers,
            user_meta=source.user_meta,
            tags=source.tags,
        )
        # A hard link shares the bytes: blobs are never modified in place once committed.
        blob = self._blobs.link_copy(source.blob_id) if source.blob_id else BlobRef("")
        try:
            result = self._store.commit_version(
                NewVersion(
                    bucket=target.name,
                    key=target_key,
                    created_at=self._clock.now(),
                    size=source.size,
                    etag=source.etag,
                    crc64=source.crc64,
                    blob_id=blob.blob_id,
                    inline_data=blob.inline,
                    content_headers=tuple(sorted(attrs.content_headers.items())),
                    user_meta=tuple(sorted(attrs.user_meta.items())),
                    acl=acl,
                    storage_class=(storage_class or attrs.storage_class or source.storage_class).value,
                    object_type=source.object_type.value,
                    tags=frozen_items(source.tags if tags is None else tags),
                    owner_id=owner_id,
                    encryption=source.encryption,
                ),
                target.versioning,
            )
        except BaseException:
            self._blobs.delete(blob.blob_id)
            raise
        return source, self._finish(result)

    def delete(self, bucket: Bucket, key: str, version_id: str | None) -> DeleteOutcome:
        if version_id is not None:
            return self._delete_version(bucket, key, version_id)
        if bucket.versioning is Versioning.OFF:
            current = self._store.get_version(bucket.name, key, None)
            if current is None:
                return DeleteOutcome(key, None, False)
            return self._delete_version(bucket, key, current.version_id, ChangeKind.DELETE)
        # Versioned: a delete without a version id writes a delete marker.
        result = self._store.commit_version(
            NewVersion(bucket=bucket.name, key=key, created_at=self._clock.now(), is_delete_marker=True),
            bucket.versioning,
        )
        marker = self._finish(result)
        return DeleteOutcome(key, None, True, marker.version_id)

    def _delete_version(
        self, bucket: Bucket, key: str, version_id: str, kind: ChangeKind = ChangeKind.DELETE_VERSION
    ) -> DeleteOutcome:
        result = self._store.delete_version(bucket.name, key, version_id, kind)
        if result is None:
            if bucket.versioning is not Versioning.OFF and version_id != NULL_VERSION:
                # Deleting a version that does not exist is a no-op that succeeds on OSS.
                return DeleteOutcome(key, version_id, False)
            return DeleteOutcome(key, None, False)
        gone = self._finish(result)
        shown_id = gone.version_id if bucket.versioning is not Versioning.OFF else None
        return DeleteOutcome(
            key,
            shown_id,
            gone.is_delete_marker,
            gone.version_id if gone.is_delete_marker else None,
        )

    def delete_many(self, bucket: Bucket, targets: Sequence[tuple[str, str | None]]) -> list[DeleteOutcome]:
        return [self.delete(bucket, key, version_id) for key, version_id in targets]

    def set_acl(self, bucket: Bucket, key: str, version_id: str | None, acl: ObjectAcl) -> ObjectVersion:
        version = self.get(bucket, key, version_id)
        self._store.set_object_acl(bucket.name, key, version.version_id, acl, self._clock.now())
        return version

    def set_tags(
        self, bucket: Bucket, key: str, version_id: str | None, tags: Mapping[str, str]
    ) -> ObjectVersion:
        version = self.get(bucket, key, version_id)
        self._store.set_object_tags(bucket.name, key, version.version_id, tags, self._clock.now())
        return version

    # --- reads --------------------------------------------------------------

    def get(self, bucket: Bucket, key: str, version_id: str | None) -> ObjectVersion:
        """The version to read; raises NoSuchKey / NoSuchVersion, or NoSuchKey for a delete marker."""
        version = self._store.get_version(bucket.name, key, version_id)
        if version is None:
            if version_id is not None and version_id != NULL_VERSION:
                raise OssError("NoSuchVersion", BucketName=bucket.name, Key=key)
            raise OssError("NoSuchKey", BucketName=bucket.name, Key=key)
        if version.is_delete_marker:
            raise DeleteMarkerError(version)
        return version

    def acl_of(self, bucket: Bucket, key: str, version_id: str | None) -> ObjectAcl | None:
        version = self._store.get_version(bucket.name, key, version_id)
        if version is None or version.is_delete_marker:
            return None
        return version.acl


class DeleteMarkerError(OssError):
    """The latest (or requested) version is a delete marker: NoSuchKey, with the marker's id."""

    def __init__(self, marker: ObjectVersion) -> None:
        super().__init__("NoSuchKey", BucketName=marker.bucket, Key=marker.key)
        self.marker = marker
