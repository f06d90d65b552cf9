"""Multipart, appendable and symlink objects replicate like any write (CRR between two processes)."""

from __future__ import annotations

import os

import crcmod
import oss2

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import body_of, exists, make_pair, wait_until

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def head_or_none(
    bucket: oss2.Bucket, key: str, version_id: str | None = None
) -> oss2.models.HeadObjectResult | None:
    try:
        return bucket.head_object(key, params={"versionId": version_id} if version_id else None)
    except oss2.exceptions.ServerError as e:  # NoSuchKey, or NoSuchVersion (no class of its own)
        if e.status != 404:
            raise
        return None


def test_a_completed_multipart_upload_replicates_with_its_etag_crc_and_bytes(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    parts = [os.urandom(100 * 1024), os.urandom(150 * 1024), b"the last part"]
    upload_id = pair.src.init_multipart_upload(
        "big/object", headers={"x-oss-meta-kind": "multipart", "x-oss-server-side-encryption": "AES256"}
    ).upload_id
    infos = [
        oss2.models.PartInfo(n, pair.src.upload_part("big/object", upload_id, n, data).etag)
        for n, data in enumerate(parts, 1)
    ]
    done = pair.src.complete_multipart_upload("big/object", upload_id, infos)
    wait_until(lambda: exists(pair.dst, "big/object"), what="the multipart replica")
    replica = pair.dst.head_object("big/object")
    assert replica.etag == done.etag and done.etag.endswith("-3")
    assert replica.headers["x-oss-hash-crc64ecma"] == str(crc64(b"".join(parts))) == str(done.crc)
    assert replica.object_type == "Multipart"
    assert replica.headers["x-oss-meta-kind"] == "multipart"
    assert replica.headers["x-oss-server-side-encryption"] == "AES256"
    assert body_of(pair.dst, "big/object") == b"".join(parts)
    wait_until(
        lambda: pair.src.head_object("big/object").headers.get("x-oss-replication-status") == "COMPLETED",
        what="COMPLETED at the source",
    )


def test_every_append_replicates(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    r = pair.src.append_object("log", 0, b"first line\n")
    wait_until(lambda: exists(pair.dst, "log"), what="the appendable replica")
    pair.src.append_object("log", r.next_position, b"second line\n")
    wait_until(lambda: body_of(pair.dst, "log") == b"first line\nsecond line\n", what="the second append")
    replica = pair.dst.head_object("log")
    assert replica.object_type == "Appendable"
    assert replica.server_crc == crc64(b"first line\nsecond line\n")
    assert replica.etag == pair.src.head_object("log").etag


def test_a_versioned_append_replaces_the_replicas_bytes_in_the_same_version(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, versioned=True)
    first = pair.src.append_object("v", 0, b"abc")
    wait_until(lambda: head_or_none(pair.dst, "v", first.versionid) is not None, what="the first append")
    pair.src.append_object("v", 3, b"def")
    wait_until(
        lambda: pair.dst.get_object("v", params={"versionId": first.versionid}).read() == b"abcdef",
        what="the second append in the same version",
    )
    assert [v.versionid for v in pair.dst.list_object_versions().versions] == [first.versionid]


def test_a_symlink_replicates_and_resolves_at_the_destination(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    pair.src.put_object("target", b"payload")
    pair.src.put_symlink("target", "link", headers={"x-oss-meta-via": "link"})
    wait_until(lambda: exists(pair.dst, "target") and exists(pair.dst, "link"), what="target and link")
    assert pair.dst.get_symlink("link").target_key == "target"
    got = pair.dst.get_object("link")
    assert (got.read(), got.headers["x-oss-meta-via"], got.object_type) == (b"payload", "link", "Symlink")
