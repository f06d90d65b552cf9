"""MultipartService over real stores on disk: assembly, encryption at rest, freeing of part blobs."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ferry.core.checksums import crc64_of
from ferry.core.clock import ManualClock
from ferry.core.encryption import SseAlgorithm
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectAcl, ObjectType, ObjectVersion
from ferry.core.multipart import MIN_PART_SIZE, MultipartUpload, Part
from ferry.service.kms import KeyService, decrypt_chunks
from ferry.service.multipart import MultipartService
from ferry.service.objects import ObjectAttrs
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_multipart import SqliteMultipartStore

BUCKET = Bucket(name="bkt", owner_id="owner", region="oss-cn-hangzhou", created_at=0.0)


@dataclass
class Env:
    meta: SqliteMetadataStore
    uploads: SqliteMultipartStore
    blobs: DiskBlobStore
    kms: KeyService
    service: MultipartService

    def blob_files(self) -> set[str]:
        return {p.name for p in self.blobs.blob_dir.rglob("*") if p.is_file()}

    def upload_part(self, upload: MultipartUpload, number: int, data: bytes) -> Part:
        iv, transform = self.service.part_cipher(upload)
        writer = self.blobs.open_writer(transform)
        writer.write(data)
        return self.service.add_part(upload, number, writer.finish(), iv)

    def read(self, version: ObjectVersion) -> bytes:
        chunks = self.blobs.read(version.blob_id, 0, version.size)
        if version.encryption is not None:
            chunks = decrypt_chunks(chunks, self.kms.data_key(version.encryption), version.encryption, 0)
        return b"".join(chunks)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    meta = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    meta.create_bucket(BUCKET)
    uploads = SqliteMultipartStore(meta.db)
    blobs = DiskBlobStore(tmp_path / "data")
    kms = KeyService(tmp_path)
    yield Env(meta, uploads, blobs, kms, MultipartService(meta, uploads, blobs, kms, ManualClock()))
    meta.close()


P1, P2, P3 = os.urandom(MIN_PART_SIZE + 17), os.urandom(MIN_PART_SIZE), os.urandom(999)


def test_complete_concatenates_the_chosen_parts_and_frees_every_part_blob(env: Env) -> None:
    attrs = ObjectAttrs(content_headers={"content-type": "text/plain"}, user_meta={"m": "1"}, tags={"t": "v"})
    upload = env.service.initiate(BUCKET, "obj", attrs, encryption=None)
    p1 = env.upload_part(upload, 1, P1)
    env.upload_part(upload, 2, b"dropped: not named at completion")
    p3 = env.upload_part(upload, 3, P3)
    version = env.service.complete(BUCKET, "obj", upload.upload_id, [(1, p1.etag), (3, p3.etag)])
    assert env.read(version) == P1 + P3
    assert version.object_type is ObjectType.MULTIPART
    assert version.size == len(P1 + P3)
    assert version.crc64 == str(crc64_of(P1 + P3))
    digest = hashlib.md5(hashlib.md5(P1).digest() + hashlib.md5(P3).digest()).hexdigest().upper()
    assert version.etag == f"{digest}-2"
    assert (dict(version.user_meta), dict(version.tags)) == ({"m": "1"}, {"t": "v"})
    assert env.blob_files() == {version.blob_id}  # the three part blobs are gone
    with pytest.raises(OssError) as info:
        env.service.complete(BUCKET, "obj", upload.upload_id, [(1, p1.etag)])
    assert info.value.code == "NoSuchUpload"


def test_complete_all_takes_every_part_and_the_acl_given_at_completion(env: Env) -> None:
    upload = env.service.initiate(BUCKET, "obj", ObjectAttrs(acl=ObjectAcl.PUBLIC_READ), encryption=None)
    for n, data in ((2, P2), (1, P1), (3, P3)):
        env.upload_part(upload, n, data)
    version = env.service.complete(BUCKET, "obj", upload.upload_id, None, acl=ObjectAcl.PRIVATE)
    assert env.read(version) == P1 + P2 + P3
    assert version.acl is ObjectAcl.PRIVATE


def test_encrypted_uploads_never_hold_plaintext_at_rest(env: Env) -> None:
    encryption, _ = env.kms.new_encryption(SseAlgorithm.AES256, None)
    upload = env.service.initiate(BUCKET, "secret", ObjectAttrs(), encryption=encryption)
    p1 = env.upload_part(upload, 1, P1)
    p2 = env.upload_part(upload, 2, P2)
    for part in (p1, p2):
        stored = env.blobs.path(part.blob_id).read_bytes()
        assert stored not in (P1, P2) and P1[:64] not in stored and P2[:64] not in stored
    assert p1.etag == hashlib.md5(P1).hexdigest().upper()  # digests are of the plaintext
    version = env.service.complete(BUCKET, "secret", upload.upload_id, [(1, p1.etag), (2, p2.etag)])
    assert version.encryption == encryption
    at_rest = env.blobs.path(version.blob_id).read_bytes()
    assert len(at_rest) == len(P1 + P2) and P1[:64] not in at_rest and P2[-64:] not in at_rest
    assert env.read(version) == P1 + P2
    assert version.crc64 == str(crc64_of(P1 + P2))


def test_sequential_uploads_keep_the_whole_md5_and_refuse_gaps(env: Env) -> None:
    upload = env.service.initiate(BUCKET, "seq", ObjectAttrs(), encryption=None, sequential=True)
    p1 = env.upload_part(upload, 1, P1)
    with pytest.raises(OssError) as info:
        env.upload_part(upload, 3, P3)
    assert info.value.code == "PartNotSequential"
    p2 = env.upload_part(upload, 2, P3)
    version = env.service.complete(BUCKET, "seq", upload.upload_id, [(1, p1.etag), (2, p2.etag)])
    assert version.content_headers["content-md5"] == base64.b64encode(hashlib.md5(P1 + P3).digest()).decode()
    assert len(env.blob_files()) == 1  # the refused part's blob did not stay behind


def test_copy_part_takes_a_range_of_an_encrypted_source(env: Env) -> None:
    encryption, _ = env.kms.new_encryption(SseAlgorithm.KMS, None)
    upload = env.service.initiate(BUCKET, "src", ObjectAttrs(), encryption=encryption)
    p1 = env.upload_part(upload, 1, P1)
    source = env.service.complete(BUCKET, "src", upload.upload_id, [(1, p1.etag)])
    target = env.service.initiate(BUCKET, "dst", ObjectAttrs(), encryption=None)
    part = env.service.copy_part(target, 1, source, 10, 10 + MIN_PART_SIZE)
    assert part.etag == hashlib.md5(P1[10 : 10 + MIN_PART_SIZE]).hexdigest().upper()
    tail = env.service.copy_part(target, 2, source, 5, 10)
    version = env.service.complete(BUCKET, "dst", target.upload_id, [(1, part.etag), (2, tail.etag)])
    assert env.read(version) == P1[10 : 10 + MIN_PART_SIZE] + P1[5:10]


def test_abort_deletes_the_parts_bytes(env: Env) -> None:
    upload = env.service.initiate(BUCKET, "gone", ObjectAttrs(), encryption=None)
    env.upload_part(upload, 1, P1)
    env.upload_part(upload, 1, P2)  # the replaced part's blob is freed at once
    assert len(env.blob_files()) == 1
    env.service.abort(BUCKET, "gone", upload.upload_id)
    assert env.blob_files() == set()
    with pytest.raises(OssError) as info:
        env.upload_part(upload, 2, P3)
    assert info.value.code == "NoSuchUpload"
    assert env.blob_files() == set()


def test_bad_content_md5_leaves_no_part(env: Env) -> None:
    upload = env.service.initiate(BUCKET, "md5", ObjectAttrs(), encryption=None)
    writer = env.blobs.open_writer()
    writer.write(P3)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(OssError) as info:
        env.service.add_part(upload, 1, writer.finish(), "", content_md5=bad)
    assert info.value.code == "InvalidDigest"
    assert env.uploads.list_parts(upload.upload_id, 0, 10) == []
    assert env.blob_files() == set()


def test_forbid_overwrite_is_checked_at_initiation_and_completion(env: Env) -> None:
    upload = env.service.initiate(BUCKET, "once", ObjectAttrs(), encryption=None, forbid_overwrite=True)
    p1 = env.upload_part(upload, 1, P3)
    env.service.complete(BUCKET, "once", upload.upload_id, [(1, p1.etag)])
    with pytest.raises(OssError) as info:
        env.service.initiate(BUCKET, "once", ObjectAttrs(), encryption=None, forbid_overwrite=True)
    assert info.value.code == "FileAlreadyExists"
    again = env.service.initiate(BUCKET, "once", ObjectAttrs(), encryption=None)
    p1 = env.upload_part(again, 1, P3)
    with pytest.raises(OssError) as info:
        env.service.complete(BUCKET, "once", again.upload_id, [(1, p1.etag)], forbid_overwrite=True)
    assert info.value.code == "FileAlreadyExists"
