"""The destination side of a big object's cross-region replication: a multipart upload.

The source sends an object above its multipart threshold as Initiate / UploadPart (each part
streamed from a range of the source blob) / Complete, all as the replication service.  The
upload becomes a *replica*, not an ordinary multipart object: completion commits it through
:class:`~ferry.service.replicas.ReplicaService` (so per-key order, idempotence and the source's
ETag, CRC-64, metadata, ACL and tags hold exactly as for a single replicated PUT), and the
combined CRC-64 of the parts must equal the source's.

Retries and crashes: a replica upload's id is derived from the change it carries (source,
bucket, key, sequence numbers, ETag, CRC-64), so a retried task -- after a lost answer or a
kill -9 of either side -- finds the same upload again and sends only the parts it lacks.
Starting an upload aborts the other replica uploads of the key from the same source (older
changes that will never complete); completion, and a completion whose bytes do not match,
remove the upload; :meth:`ReplicaUploads.sweep` aborts replica uploads left idle longer than
a day (a rule deleted mid-upload, a change superseded by a small write).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import replace

from ferry.core.clock import Clock
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import Bucket, StagedBlob
from ferry.core.multipart import MultipartUpload, Part, combined_crc64
from ferry.service.multipart import MultipartService
from ferry.service.replicas import ReplicaAttrs, ReplicaService
from ferry.storage.blobs import BlobStore
from ferry.storage.interfaces import MultipartStore, ReplicaWrite

log = logging.getLogger("ferry.replication")

REPLICA_UPLOAD_PREFIX = "FR"
"""Upload ids of replica uploads start with this (ordinary ids are hex digits only)."""

_LIST_LIMIT = 100


def replica_upload_id(bucket: str, key: str, origin: ReplicaWrite, etag: str, crc64: str) -> str:
    """32 characters: the prefix, 8 of the source (to find its uploads), 22 of the change."""
    source = hashlib.sha256(origin.source.encode()).hexdigest()[:8].upper()
    change = "\0".join((bucket, key, str(origin.seq), str(origin.version_seq), etag, crc64))
    return REPLICA_UPLOAD_PREFIX + source + hashlib.sha256(change.encode()).hexdigest()[:22].upper()


def parts_making(stored: Mapping[int, Part], size: int) -> list[Part] | None:
    """Parts 1, 2, ... up to ``size`` bytes in all; None when one is missing or they do not add
    up.  Parts numbered beyond (an attempt with another part size) are not part of the object."""
    parts: list[Part] = []
    total = 0
    while total < size:
        part = stored.get(len(parts) + 1)
        if part is None:
            return None
        parts.append(part)
        total += part.size
    return parts if parts and total == size else None


def _source_prefix(source: str) -> str:
    return REPLICA_UPLOAD_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:8].upper()


class ReplicaUploads:
    def __init__(
        self,
        uploads: MultipartStore,
        multipart: MultipartService,
        replicas: ReplicaService,
        blobs: BlobStore,
        clock: Clock,
    ) -> None:
        self._uploads = uploads
        self._multipart = multipart
        self._replicas = replicas
        self._blobs = blobs
        self._clock = clock

    def begin(
        self,
        bucket: Bucket,
        key: str,
        attrs: ReplicaAttrs,
        origin: ReplicaWrite,
        encryption: Encryption | None,
    ) -> tuple[MultipartUpload, dict[int, int]]:
        """The upload for this change (a fresh one, or the one a retry left) and its parts' sizes."""
        upload_id = replica_upload_id(bucket.name, key, origin, attrs.etag, attrs.crc64)
        existing = self._uploads.get_upload(bucket.name, key, upload_id)
        if existing is not None:
            parts = self._multipart.all_parts(existing)
            return existing, {n: p.size for n, p in parts.items()}
        self._abort_others(bucket.name, key, _source_prefix(origin.source), keep=upload_id)
        upload = MultipartUpload(
            upload_id=upload_id,
            bucket=bucket.name,
            key=key,
            initiated_at=self._clock.now(),
            owner_id=bucket.owner_id,
            content_headers=dict(attrs.content_headers or {}),
            user_meta=dict(attrs.user_meta or {}),
            acl=attrs.acl,
            storage_class=attrs.storage_class,
            tags=dict(attrs.tags or {}),
            encryption=encryption,
        )
        self._uploads.create_upload(upload)
        return upload, {}

    def require(self, bucket: Bucket, key: str, upload_id: str) -> MultipartUpload:
        if not upload_id.startswith(REPLICA_UPLOAD_PREFIX):
            raise OssError("NoSuchUpload", UploadId=upload_id)
        return self._multipart.require(bucket, key, upload_id)

    def add_part(self, upload: MultipartUpload, number: int, staged: StagedBlob, iv: str) -> Part:
        return self._multipart.add_part(upload, number, staged, iv)

    def complete(
        self, bucket: Bucket, key: str, upload_id: str, attrs: ReplicaAttrs, origin: ReplicaWrite, size: int
    ) -> bool:
        """Make the parts the replica; False when a later change was here already.  The upload
        is removed either way, also when the bytes do not match the source's (the retry then
        starts afresh instead of reusing bad parts)."""
        upload = self.require(bucket, key, upload_id)
        parts = parts_making(self._multipart.all_parts(upload), size)
        if parts is None:
            # Not all parts are here (yet): the source sends them again, nothing is dropped.
            raise OssError("InvalidPart", "The replica upload does not hold every part of the object.")
        crc = combined_crc64(parts)
        if attrs.crc64 and str(crc) != attrs.crc64:
            self._abort(bucket.name, key, upload_id)
            raise OssError("InvalidDigest", "The replicated parts do not match the source's CRC-64.")
        blob_id, _ = self._multipart.assemble(upload, parts)
        # The replica keeps the upload's encryption (its data key wrapped the parts and the object).
        attrs = replace(attrs, encryption=upload.encryption)
        staged = StagedBlob(blob_id=blob_id, size=size, md5_hex="", crc64=crc)
        applied = self._replicas.put(bucket, key, staged, attrs, origin)
        # After the commit: a crash here leaves the upload, which a retry finds and completes
        # again (the replica is there already: nothing is applied) or the sweep removes.
        self._abort(bucket.name, key, upload_id)
        return applied

    def _abort(self, bucket: str, key: str, upload_id: str) -> None:
        try:
            freed = self._uploads.abort_upload(bucket, key, upload_id)
        except OssError:
            return  # removed meanwhile (a concurrent retry of the same change)
        for blob_id in freed:
            self._blobs.delete(blob_id)

    def _abort_others(self, bucket: str, key: str, prefix: str, keep: str) -> None:
        stale = [
            u.upload_id
            for u in self._uploads.list_uploads(bucket, key, key, "", _LIST_LIMIT)
            if u.key == key and u.upload_id.startswith(prefix) and u.upload_id != keep
        ]
        for upload_id in stale:
            self._abort(bucket, key, upload_id)

    def sweep(self, older_than: float) -> int:
        """Abort replica uploads started before ``older_than``; how many."""
        done = 0
        for bucket, key, upload_id in self._uploads.uploads_started_before(
            REPLICA_UPLOAD_PREFIX, older_than, _LIST_LIMIT
        ):
            self._abort(bucket, key, upload_id)
            done += 1
        if done:
            log.info("aborted %d replica upload(s) left idle", done)
        return done
