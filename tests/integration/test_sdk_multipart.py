"""Multipart upload end to end through oss2 (V1, V4) and alibabacloud-oss-v2 (V4, V1)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import crcmod
import oss2
import pytest

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.mp_clients import CLIENTS, MpClient, SdkError, make_mp_client

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
KIB = 1024
BIG = 100 * KIB  # the smallest size a part other than the last may have


def multipart_etag(*parts: bytes) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest().upper()
    return f"{digest}-{len(parts)}"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest().upper()


@pytest.fixture(params=CLIENTS)
def mp(request: pytest.FixtureRequest, cluster: FerryCluster) -> MpClient:
    return make_mp_client(cluster, request.param)


def clean(cluster: FerryCluster, name: str) -> None:
    b = cluster.oss2_bucket(name)
    for u in oss2.MultipartUploadIterator(b):
        b.abort_multipart_upload(u.key, u.upload_id)
    if b.get_bucket_info().versioning_status:
        listed = b.list_object_versions()
        for v in [*listed.versions, *listed.delete_marker]:
            b.delete_object(v.key, params={"versionId": v.versionid})
    for o in oss2.ObjectIteratorV2(b):
        b.delete_object(o.key)
    b.delete_bucket()


@pytest.fixture
def bucket(cluster: FerryCluster) -> Iterator[str]:
    name = unique_bucket("mp")
    cluster.oss2_bucket(name).create_bucket()
    yield name
    clean(cluster, name)


def raises(fn: object) -> SdkError:
    with pytest.raises(SdkError) as info:
        fn()  # type: ignore[operator]
    return info.value


def test_round_trip_with_oss_etag_crc_and_type(mp: MpClient, bucket: str, cluster: FerryCluster) -> None:
    parts = [os.urandom(BIG + 7), os.urandom(BIG), os.urandom(1234)]
    key = "dir/multi part ü.bin"
    upload_id = mp.initiate(bucket, key, {"Content-Type": "text/x-test", "x-oss-meta-origin": mp.name})
    etags = [mp.upload_part(bucket, key, upload_id, n, data) for n, data in enumerate(parts, 1)]
    assert etags == [md5_hex(p) for p in parts]
    done = mp.complete(bucket, key, upload_id, list(enumerate(etags, 1)))
    whole = b"".join(parts)
    assert done.etag == multipart_etag(*parts)
    assert done.crc64 == str(crc64(whole))
    body, headers = mp.get(bucket, key)
    assert body == whole
    assert headers["x-oss-object-type"] == "Multipart"
    assert headers["etag"].strip('"') == done.etag
    assert headers["x-oss-hash-crc64ecma"] == str(crc64(whole))
    assert headers["content-type"] == "text/x-test"
    assert headers["x-oss-meta-origin"] == mp.name
    assert "content-md5" not in headers  # a multipart ETag is not an MD5
    assert cluster.oss2_bucket(bucket).get_bucket_stat().multi_part_upload_count == 0


def test_part_uploaded_again_replaces_the_first(mp: MpClient, bucket: str) -> None:
    upload_id = mp.initiate(bucket, "k")
    mp.upload_part(bucket, "k", upload_id, 1, b"first version of the part")
    etag = mp.upload_part(bucket, "k", upload_id, 1, b"second")
    assert mp.list_parts(bucket, "k", upload_id, 0, 10).parts == [(1, md5_hex(b"second"), 6)]
    mp.complete(bucket, "k", upload_id, [(1, etag)])
    assert mp.get(bucket, "k")[0] == b"second"


def test_upload_part_copy_with_range_and_version_id(mp: MpClient, bucket: str, cluster: FerryCluster) -> None:
    b = cluster.oss2_bucket(bucket)
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    old = os.urandom(BIG + 500)
    old_version = b.put_object("source", old).versionid
    b.put_object("source", b"the newer version")
    upload_id = mp.initiate(bucket, "copied")
    e1 = mp.copy_part(bucket, "copied", upload_id, 1, (bucket, "source"), (100, 100 + BIG - 1), old_version)
    e2 = mp.copy_part(bucket, "copied", upload_id, 2, (bucket, "source"), None, None)
    assert (e1, e2) == (md5_hex(old[100 : 100 + BIG]), md5_hex(b"the newer version"))
    done = mp.complete(bucket, "copied", upload_id, [(1, e1), (2, e2)])
    assert done.version_id  # a versioned bucket names the version it made
    assert mp.get(bucket, "copied")[0] == old[100 : 100 + BIG] + b"the newer version"


def test_complete_all_takes_every_uploaded_part(mp: MpClient, bucket: str) -> None:
    parts = {2: os.urandom(BIG), 1: os.urandom(BIG), 5: b"end"}
    upload_id = mp.initiate(bucket, "all")
    for n, data in parts.items():
        mp.upload_part(bucket, "all", upload_id, n, data)
    done = mp.complete(bucket, "all", upload_id, None)
    assert done.etag == multipart_etag(parts[1], parts[2], parts[5])
    assert mp.get(bucket, "all")[0] == parts[1] + parts[2] + parts[5]


def test_completion_errors(mp: MpClient, bucket: str) -> None:
    upload_id = mp.initiate(bucket, "e")
    small = mp.upload_part(bucket, "e", upload_id, 1, b"too small to be followed")
    last = mp.upload_part(bucket, "e", upload_id, 2, b"last")
    e = raises(lambda: mp.complete(bucket, "e", upload_id, [(1, small), (2, last)]))
    assert (e.status, e.code) == (400, "EntityTooSmall")
    e = raises(lambda: mp.complete(bucket, "e", upload_id, [(1, small), (3, last)]))
    assert (e.status, e.code) == (400, "InvalidPart")
    e = raises(lambda: mp.complete(bucket, "e", upload_id, [(2, small)]))
    assert (e.status, e.code) == (400, "InvalidPart")  # the ETag is part 1's, not part 2's
    if mp.name.startswith("v2"):  # oss2 sorts the parts itself
        e = raises(lambda: mp.complete(bucket, "e", upload_id, [(2, last), (1, small)]))
        assert (e.status, e.code) == (400, "InvalidPartOrder")
    mp.abort(bucket, "e", upload_id)
    e = raises(lambda: mp.complete(bucket, "e", upload_id, [(2, last)]))
    assert (e.status, e.code) == (404, "NoSuchUpload")
    e = raises(lambda: mp.upload_part(bucket, "e", upload_id, 3, b"x"))
    assert (e.status, e.code) == (404, "NoSuchUpload")
    e = raises(lambda: mp.abort(bucket, "e", upload_id))
    assert (e.status, e.code) == (404, "NoSuchUpload")
    assert raises(lambda: mp.get(bucket, "e")).code == "NoSuchKey"


def test_list_parts_pages_with_markers(mp: MpClient, bucket: str) -> None:
    upload_id = mp.initiate(bucket, "parts")
    for n in (1, 3, 6, 7, 9):
        mp.upload_part(bucket, "parts", upload_id, n, f"part {n}".encode())
    seen: list[int] = []
    marker = 0
    for _ in range(10):
        page = mp.list_parts(bucket, "parts", upload_id, marker, 2)
        seen += [n for n, _, _ in page.parts]
        if not page.truncated:
            break
        assert page.next_marker == page.parts[-1][0]
        marker = page.next_marker
    assert seen == [1, 3, 6, 7, 9]
    mp.abort(bucket, "parts", upload_id)


def test_list_uploads_with_markers_and_prefixes(mp: MpClient, bucket: str) -> None:
    made = sorted(
        [("a/1", mp.initiate(bucket, "a/1")) for _ in range(3)]
        + [("a/sub/x", mp.initiate(bucket, "a/sub/x")), ("b", mp.initiate(bucket, "b"))]
    )
    seen: list[tuple[str, str]] = []
    key_marker = upload_id_marker = ""
    for _ in range(10):
        page = mp.list_uploads(
            bucket, key_marker=key_marker, upload_id_marker=upload_id_marker, max_uploads=2
        )
        seen += page.uploads
        if not page.truncated:
            break
        key_marker, upload_id_marker = page.next_key, page.next_upload_id
    assert seen == made
    grouped = mp.list_uploads(bucket, prefix="a/", delimiter="/")
    assert grouped.uploads == [u for u in made if u[0] == "a/1"]
    if grouped.prefixes is not None:
        assert grouped.prefixes == ["a/sub/"]
    for key, upload_id in made:
        mp.abort(bucket, key, upload_id)
    assert mp.list_uploads(bucket).uploads == []


def test_encrypted_upload_reads_back_and_stays_encrypted(
    mp: MpClient, bucket: str, cluster: FerryCluster
) -> None:
    secret = b"multipart secret marker " * (BIG // 24 + 1)
    upload_id = mp.initiate(bucket, "sse", {"x-oss-server-side-encryption": "AES256"})
    e1 = mp.upload_part(bucket, "sse", upload_id, 1, secret)
    e2 = mp.upload_part(bucket, "sse", upload_id, 2, b"tail of the secret")
    mp.complete(bucket, "sse", upload_id, [(1, e1), (2, e2)])
    body, headers = mp.get(bucket, "sse")
    assert body == secret + b"tail of the secret"
    assert headers["x-oss-server-side-encryption"] == "AES256"
    blobs = cluster.data_dir("oss-cn-hangzhou") / "blobs"
    assert not any(b"multipart secret marker" in p.read_bytes() for p in blobs.rglob("*") if p.is_file())


def test_parts_and_completion_refuse_encryption_headers(cluster: FerryCluster, bucket: str) -> None:
    """A part is encrypted as its upload was initiated: OSS answers InvalidArgument when an
    UploadPart or a CompleteMultipartUpload names an encryption (oss2's
    test_server_side_encryotion expects it)."""
    b = cluster.oss2_bucket(bucket)
    upload_id = b.init_multipart_upload("e", headers={"x-oss-server-side-encryption": "AES256"}).upload_id
    with pytest.raises(oss2.exceptions.InvalidArgument):
        b.upload_part("e", upload_id, 1, b"x", headers={"x-oss-server-side-encryption": "KMS"})
    etag = b.upload_part("e", upload_id, 1, b"x").etag
    parts = [oss2.models.PartInfo(1, etag)]
    with pytest.raises(oss2.exceptions.InvalidArgument):
        b.complete_multipart_upload("e", upload_id, parts, headers={"x-oss-server-side-encryption": "KMS"})
    b.complete_multipart_upload("e", upload_id, parts)
    assert b.head_object("e").headers["x-oss-server-side-encryption"] == "AES256"


def test_tags_acl_and_storage_class_from_initiation(cluster: FerryCluster, bucket: str) -> None:
    b = cluster.oss2_bucket(bucket)
    headers = {"x-oss-tagging": "k1=v1&k2=", "x-oss-object-acl": "public-read", "x-oss-storage-class": "IA"}
    upload_id = b.init_multipart_upload("t", headers=headers).upload_id
    etag = b.upload_part("t", upload_id, 1, b"x").etag
    b.complete_multipart_upload("t", upload_id, [oss2.models.PartInfo(1, etag)])
    assert b.get_object_tagging("t").tag_set.tagging_rule == {"k1": "v1", "k2": ""}
    assert b.get_object_acl("t").acl == "public-read"
    assert b.head_object("t").headers["x-oss-storage-class"] == "IA"
    with pytest.raises(oss2.exceptions.ServerError) as info:
        b.init_multipart_upload("t", headers={"x-oss-tagging": "a=1&a=2"})
    assert info.value.code == "InvalidArgument"


def test_part_copies_read_the_source_only_with_the_right_to_read_it(cluster: FerryCluster) -> None:
    names = [unique_bucket("mp") for _ in range(3)]
    target, private, public = (cluster.oss2_bucket(n) for n in names)
    target.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    private.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    public.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    try:
        private.put_object("src", b"private bytes")
        public.put_object("src", b"public bytes")
        anonymous = oss2.Bucket(oss2.AnonymousAuth(), cluster.region().endpoint, target.bucket_name)
        upload_id = anonymous.init_multipart_upload("k").upload_id
        with pytest.raises(oss2.exceptions.AccessDenied):
            anonymous.upload_part_copy(private.bucket_name, "src", None, "k", upload_id, 1)
        etag = anonymous.upload_part_copy(public.bucket_name, "src", None, "k", upload_id, 1).etag
        anonymous.complete_multipart_upload("k", upload_id, [oss2.models.PartInfo(1, etag)])
        assert target.get_object("k").read() == b"public bytes"
    finally:
        for n in names:
            clean(cluster, n)
