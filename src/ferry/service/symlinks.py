"""Symlinks: PutSymlink, GetSymlink, and reading an object through a symlink.

A symlink is a version of object type ``Symlink`` whose bytes are its target's key (UTF-8),
so it needs no column of its own: it is listed, versioned, deleted, tagged and replicated
like any object (the replica carries the target in its bytes and keeps the type).  Its ETag
is the MD5 of the target's name.  Reading it (GetObject, HeadObject) serves the current
version of the target with the symlink's own user metadata, as OSS does; the target is not
checked when the symlink is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ferry.core.clock import Clock
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectType, ObjectVersion
from ferry.core.names import check_object_key
from ferry.service.objects import ObjectAttrs, check_not_exists, frozen_items
from ferry.storage.blobs import BlobStore
from ferry.storage.interfaces import MetadataStore, NewVersion


@dataclass(frozen=True)
class Followed:
    view: ObjectVersion
    """What a reader of the symlink sees: the target's bytes, the symlink's metadata."""
    target: ObjectVersion


class SymlinkService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, clock: Clock) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    def put(
        self,
        bucket: Bucket,
        key: str,
        target: str,
        attrs: ObjectAttrs,
        *,
        forbid_overwrite: bool = False,
    ) -> ObjectVersion:
        check_object_key(key)
        check_object_key(target)
        if forbid_overwrite:
            check_not_exists(self._store, bucket, key)
        writer = self._blobs.open_writer()
        try:
            writer.write(target.encode())
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        try:
            result = self._store.commit_version(
                NewVersion(
                    bucket=bucket.name,
                    key=key,
                    created_at=self._clock.now(),
                    size=staged.size,
                    etag=staged.md5_hex.upper(),
                    crc64=str(staged.crc64),
                    blob_id=staged.blob_id,
                    content_headers=frozen_items(attrs.content_headers),
                    user_meta=frozen_items(attrs.user_meta),
                    acl=attrs.acl,
                    storage_class=(attrs.storage_class or bucket.storage_class).value,
                    object_type=ObjectType.SYMLINK.value,
                    tags=frozen_items(attrs.tags),
                    owner_id=bucket.owner_id,
                ),
                bucket.versioning,
            )
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        for blob_id in result.freed_blob_ids:
            self._blobs.delete(blob_id)
        return result.version

    def target_of(self, symlink: ObjectVersion) -> str:
        """The key a symlink version points to; NotSymlink for any other object."""
        if symlink.object_type is not ObjectType.SYMLINK:
            raise OssError("NotSymlink", Key=symlink.key)
        if not symlink.size:
            return ""
        return b"".join(self._blobs.read(symlink.blob_id, 0, symlink.size)).decode()

    def follow(self, bucket: Bucket, symlink: ObjectVersion) -> Followed:
        """The current version of the target, seen through the symlink.

        NoSuchKey when the target does not exist (or its latest version is a delete marker);
        InvalidTargetType when it is a symlink itself.
        """
        target_key = self.target_of(symlink)
        target = self._store.get_version(bucket.name, target_key, None)
        if target is None or target.is_delete_marker:
            raise OssError(
                "NoSuchKey",
                "The symlink's target object does not exist.",
                BucketName=bucket.name,
                Key=symlink.key,
            )
        if target.object_type is ObjectType.SYMLINK:
            raise OssError("InvalidTargetType", Key=symlink.key)
        view = dataclasses.replace(
            target,
            key=symlink.key,
            version_id=symlink.version_id,
            created_at=max(symlink.created_at, target.created_at),
            object_type=ObjectType.SYMLINK,
            user_meta=symlink.user_meta,
            tags=symlink.tags,
            replication=symlink.replication,
            acl=symlink.acl,
        )
        return Followed(view, target)
