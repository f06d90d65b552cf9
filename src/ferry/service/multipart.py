"""Multipart upload use cases: initiate, upload or copy parts, complete, abort, list parts.

How a completed object's bytes are stored: the chosen parts are concatenated into one new
blob (``copy_file_range``: the kernel copies the bytes, and file systems with shared extents
only link them), and the version refers to that one blob.  Keeping a version as a list of
part blobs would save that copy but would change every reader — ranged GETs, SSE decryption,
replication's streaming reads, CopyObject's hard link — which all rely on one blob per
version; the copy runs once per completion, in the kernel.

Crash safety: the new blob is fsynced and renamed before anything refers to it; one
transaction then writes the version, queues its replication (the outbox hook of
``commit_version``) and removes the upload with its parts; only after that commit are the
part blobs deleted.  A crash before the commit leaves the upload as it was (and an
unreferenced blob); a crash after it leaves at worst part blobs no row refers to.  Nothing a
row refers to is ever deleted: a part re-uploaded or an upload aborted while a completion
is copying makes the commit fail (InvalidPart / NoSuchUpload), not the object lose bytes.

Server-side encryption: every part is stored encrypted with the upload's data key and an IV
of its own (a part's offset in the object is unknown when it arrives); completion decrypts
the parts and writes the object's blob encrypted with the object's IV, so the object is one
AES-CTR run like any other encrypted object, and no byte is ever at rest in plaintext.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ferry.core.clock import Clock
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectAcl, ObjectType, ObjectVersion, StagedBlob
from ferry.core.multipart import (
    MAX_PART_NUMBER,
    MultipartUpload,
    Part,
    UploadClaim,
    check_sizes,
    combined_crc64,
    multipart_etag,
    new_upload_id,
    select_parts,
)
from ferry.core.names import check_object_key
from ferry.service.kms import KeyService, StreamCipher, decrypt_chunks, encryptor
from ferry.service.objects import ObjectAttrs, check_content_md5, check_not_exists, frozen_items
from ferry.storage.blobs import BlobStore, Transform
from ferry.storage.interfaces import MetadataStore, MultipartStore, NewVersion

_PAGE = 1000


@dataclass(frozen=True)
class PartPage:
    parts: list[Part]
    truncated: bool
    next_marker: int


class MultipartService:
    def __init__(
        self, store: MetadataStore, uploads: MultipartStore, blobs: BlobStore, kms: KeyService, clock: Clock
    ) -> None:
        self._store = store
        self._uploads = uploads
        self._blobs = blobs
        self._kms = kms
        self._clock = clock

    # --- starting and finding uploads ----------------------------------------------------

    def initiate(
        self,
        bucket: Bucket,
        key: str,
        attrs: ObjectAttrs,
        *,
        encryption: Encryption | None,
        sequential: bool = False,
        forbid_overwrite: bool = False,
    ) -> MultipartUpload:
        check_object_key(key)
        if forbid_overwrite:
            check_not_exists(self._store, bucket, key)
        upload = MultipartUpload(
            upload_id=new_upload_id(),
            bucket=bucket.name,
            key=key,
            initiated_at=self._clock.now(),
            owner_id=bucket.owner_id,
            content_headers=dict(attrs.content_headers),
            user_meta=dict(attrs.user_meta),
            acl=attrs.acl,
            storage_class=attrs.storage_class or bucket.storage_class,
            tags=dict(attrs.tags),
            encryption=encryption,
            sequential=sequential,
            forbid_overwrite=forbid_overwrite,
        )
        self._uploads.create_upload(upload)
        return upload

    def require(self, bucket: Bucket, key: str, upload_id: str) -> MultipartUpload:
        upload = self._uploads.get_upload(bucket.name, key, upload_id)
        if upload is None:
            raise OssError("NoSuchUpload", UploadId=upload_id)
        return upload

    # --- parts -----------------------------------------------------------------------------

    def part_cipher(self, upload: MultipartUpload) -> tuple[str, Transform | None]:
        """A fresh IV (hex) and the encryptor for one part of ``upload`` ('' and None: plain)."""
        if upload.encryption is None:
            return "", None
        iv = os.urandom(16)
        return iv.hex(), StreamCipher(self._kms.data_key(upload.encryption), iv, 0)

    def add_part(
        self,
        upload: MultipartUpload,
        part_number: int,
        staged: StagedBlob,
        iv: str,
        *,
        content_md5: str | None = None,
    ) -> Part:
        """Record a staged part (replacing an earlier one with its number)."""
        try:
            check_content_md5(content_md5, staged)
            part = Part(
                part_number=part_number,
                size=staged.size,
                etag=staged.md5_hex.upper(),
                crc64=staged.crc64,
                blob_id=staged.blob_id,
                created_at=self._clock.now(),
                iv=iv,
            )
            freed = self._uploads.put_part(
                upload.bucket, upload.key, upload.upload_id, part, in_order=upload.sequential
            )
        except BaseException:
            self._blobs.delete(staged.blob_id)
            raise
        for blob_id in freed:
            self._blobs.delete(blob_id)
        return part

    def copy_part(
        self, upload: MultipartUpload, part_number: int, source: ObjectVersion, start: int, end: int
    ) -> Part:
        """UploadPartCopy: bytes ``start``..``end`` (exclusive) of a source version become a part."""
        iv, transform = self.part_cipher(upload)
        writer = self._blobs.open_writer(transform)
        try:
            for chunk in self._plaintext(source, start, end):
                writer.write(chunk)
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        return self.add_part(upload, part_number, staged, iv)

    def _plaintext(self, version: ObjectVersion, start: int, end: int) -> Iterator[bytes]:
        chunks = self._blobs.read(version.blob_id, start, end) if end > start else iter(())
        if version.encryption is None:
            return chunks
        return decrypt_chunks(chunks, self._kms.data_key(version.encryption), version.encryption, start)

    def list_parts(self, upload: MultipartUpload, marker: int, max_parts: int) -> PartPage:
        rows = self._uploads.list_parts(upload.upload_id, marker, max_parts + 1)
        truncated = len(rows) > max_parts
        rows = rows[:max_parts]
        return PartPage(rows, truncated, rows[-1].part_number if rows else marker)

    def all_parts(self, upload: MultipartUpload) -> dict[int, Part]:
        parts: dict[int, Part] = {}
        after = 0
        for _ in range(MAX_PART_NUMBER // _PAGE + 1):
            page = self._uploads.list_parts(upload.upload_id, after, _PAGE)
            parts.update((p.part_number, p) for p in page)
            if len(page) < _PAGE:
                break
            after = page[-1].part_number
        return parts

    # --- finishing -------------------------------------------------------------------------

    def complete(
        self,
        bucket: Bucket,
        key: str,
        upload_id: str,
        requested: Sequence[tuple[int, str]] | None,
        *,
        acl: ObjectAcl | None = None,
        forbid_overwrite: bool = False,
    ) -> ObjectVersion:
        """The parts named (``None``: every uploaded part, ``x-oss-complete-all``) become the object."""
        upload = self.require(bucket, key, upload_id)
        stored = self.all_parts(upload)
        if requested is None:
            parts = [stored[n] for n in sorted(stored)]
            if not parts:
                raise OssError("InvalidPart", "The upload has no part to complete it with.")
            check_sizes(parts)
        else:
            parts = select_parts(requested, stored)
        if forbid_overwrite or upload.forbid_overwrite:
            check_not_exists(self._store, bucket, key)
        blob_id, whole_md5 = self.assemble(upload, parts)
        content = dict(upload.content_headers)
        if whole_md5:
            content["content-md5"] = whole_md5
        try:
            result = self._store.commit_version(
                NewVersion(
                    bucket=bucket.name,
                    key=key,
                    created_at=self._clock.now(),
                    size=sum(p.size for p in parts),
                    etag=multipart_etag(parts),
                    crc64=str(combined_crc64(parts)),
                    blob_id=blob_id,
                    content_headers=frozen_items(content),
                    user_meta=frozen_items(upload.user_meta),
                    acl=acl if acl is not None else upload.acl,
                    storage_class=upload.storage_class.value,
                    object_type=ObjectType.MULTIPART.value,
                    tags=frozen_items(upload.tags),
                    owner_id=upload.owner_id,
                    encryption=upload.encryption,
                ),
                bucket.versioning,
                upload=UploadClaim(bucket.name, key, upload_id, {p.part_number: p.blob_id for p in parts}),
            )
        except BaseException:
            self._blobs.delete(blob_id)
            raise
        for freed in result.freed_blob_ids:
            self._blobs.delete(freed)
        return result.version

    def assemble(self, upload: MultipartUpload, parts: Sequence[Part]) -> tuple[str, str]:
        """Write the object's blob from the parts: (blob id, base64 MD5 of the whole or '')."""
        try:
            if upload.encryption is None and not upload.sequential:
                return self._blobs.concat([p.blob_id for p in parts]), ""
            return self._rewrite(upload, parts)
        except FileNotFoundError:
            # A part's blob went away under us: its part was uploaded again, or the upload aborted.
            raise OssError("InvalidPart", "A part changed while the upload was being completed.") from None

    def _rewrite(self, upload: MultipartUpload, parts: Sequence[Part]) -> tuple[str, str]:
        """Through the bytes: re-encrypt under the object's IV, and/or digest the whole object."""
        info = upload.encryption
        data_key = self._kms.data_key(info) if info is not None else b""
        writer = self._blobs.open_writer(encryptor(data_key, info) if info is not None else None)
        try:
            for part in parts:
                chunks = self._blobs.read(part.blob_id, 0, part.size) if part.size else iter(())
                if info is not None:
                    chunks = map(StreamCipher(data_key, bytes.fromhex(part.iv), 0), chunks)
                for chunk in chunks:
                    writer.write(chunk)
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        whole_md5 = base64.b64encode(bytes.fromhex(staged.md5_hex)).decode() if upload.sequential else ""
        return staged.blob_id, whole_md5

    def abort(self, bucket: Bucket, key: str, upload_id: str) -> None:
        for blob_id in self._uploads.abort_upload(bucket.name, key, upload_id):
            self._blobs.delete(blob_id)
