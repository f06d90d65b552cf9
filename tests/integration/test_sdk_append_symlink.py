"""AppendObject and symlinks through oss2 (V1, V4) and alibabacloud-oss-v2 (V4, V1)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote

import crcmod
import oss2
import pytest
import requests

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.mp_clients import CLIENTS, MpClient, SdkError, make_mp_client
from tests.integration.test_sdk_multipart import clean

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


@pytest.fixture(params=CLIENTS)
def mp(request: pytest.FixtureRequest, cluster: FerryCluster) -> MpClient:
    return make_mp_client(cluster, request.param)


@pytest.fixture
def bucket(cluster: FerryCluster) -> Iterator[str]:
    name = unique_bucket("ap")
    cluster.oss2_bucket(name).create_bucket()
    yield name
    clean(cluster, name)


def raises(fn: object) -> SdkError:
    with pytest.raises(SdkError) as info:
        fn()  # type: ignore[operator]
    return info.value


def test_appends_grow_the_object(mp: MpClient, bucket: str) -> None:
    pieces = [os.urandom(512), b"", os.urandom(100 * 1024), b"end"]
    position = 0
    for i, piece in enumerate(pieces):
        headers = {"x-oss-meta-n": str(i), "Content-Type": "text/x-log"}
        position, crc = mp.append(bucket, "log", position, piece, headers)
        assert crc == str(crc64(b"".join(pieces[: i + 1])))
    assert position == sum(map(len, pieces))
    body, headers = mp.get(bucket, "log")
    assert body == b"".join(pieces)
    assert headers["x-oss-object-type"] == "Appendable"
    assert headers["x-oss-meta-n"] == "0"  # metadata comes from the first append only
    assert headers["content-type"] == "text/x-log"
    assert "content-md5" not in headers


def test_wrong_position_and_not_appendable(mp: MpClient, bucket: str, cluster: FerryCluster) -> None:
    mp.append(bucket, "log", 0, b"12345")
    for wrong in (0, 4, 6):
        e = raises(lambda wrong=wrong: mp.append(bucket, "log", wrong, b"x"))
        assert (e.status, e.code, e.headers["x-oss-next-append-position"]) == (
            409,
            "PositionNotEqualToLength",
            "5",
        )
    e = raises(lambda: mp.append(bucket, "never", 7, b"x"))
    assert (e.code, e.headers["x-oss-next-append-position"]) == ("PositionNotEqualToLength", "0")
    cluster.oss2_bucket(bucket).put_object("normal", b"put")
    e = raises(lambda: mp.append(bucket, "normal", 3, b"x"))
    assert (e.status, e.code) == (409, "ObjectNotAppendable")
    assert mp.get(bucket, "log")[0] == b"12345"


def test_oss2_append_with_init_crc_and_tagging_on_the_first_append(
    cluster: FerryCluster, bucket: str
) -> None:
    b = cluster.oss2_bucket(bucket, v4=True)
    r = b.append_object("t", 0, b"abc", headers={"x-oss-tagging": "k=v"}, init_crc=0)
    r = b.append_object("t", r.next_position, b"def", headers={"x-oss-tagging": "ignored=1"}, init_crc=r.crc)
    assert r.crc == crc64(b"abcdef")
    assert b.get_object_tagging("t").tag_set.tagging_rule == {"k": "v"}


def test_versioned_appends_keep_one_version(cluster: FerryCluster, bucket: str) -> None:
    b = cluster.oss2_bucket(bucket)
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    first = b.append_object("v", 0, b"one")
    second = b.append_object("v", 3, b"two")
    assert first.versionid and second.versionid == first.versionid
    assert [v.versionid for v in b.list_object_versions().versions] == [first.versionid]
    b.put_object("v", b"normal now")  # the appendable version becomes a previous one
    with pytest.raises(oss2.exceptions.ObjectNotAppendable):
        b.append_object("v", 10, b"x")
    assert b.get_object("v", params={"versionId": first.versionid}).read() == b"onetwo"
    b.delete_object("v")  # a delete marker: a new appendable version may start at 0
    third = b.append_object("v", 0, b"fresh")
    assert third.versionid not in (first.versionid, None)


def test_symlink_reads_the_target_with_its_own_metadata(
    mp: MpClient, bucket: str, cluster: FerryCluster
) -> None:
    b = cluster.oss2_bucket(bucket)
    # oss2 URL-encodes x-oss-symlink-target; v2 sends it as it is (so only ASCII travels there).
    target = "dir/target ü+%" if mp.name.startswith("oss2") else "dir/target +"
    b.put_object(target, b"hello", headers={"x-oss-meta-side": "target"})
    mp.put_symlink(bucket, "link", target, {"side": "link"})
    # The answer is URL-encoded, as from OSS: oss2 decodes it, v2 hands it over as it came.
    assert unquote(mp.get_symlink(bucket, "link")) == target
    body, headers = mp.get(bucket, "link")
    assert body == b"hello"
    assert headers["etag"].strip('"') == hashlib.md5(b"hello").hexdigest().upper()
    assert headers["x-oss-object-type"] == "Symlink"
    assert headers["x-oss-meta-side"] == "link"
    head = b.head_object("link")
    assert (head.content_length, head.object_type) == (5, "Symlink")
    b.put_object(target, b"changed target")
    assert mp.get(bucket, "link")[0] == b"changed target"  # a symlink follows the current version


def test_symlink_errors(mp: MpClient, bucket: str, cluster: FerryCluster) -> None:
    e = raises(lambda: mp.get_symlink(bucket, "missing"))
    assert (e.status, e.code) == (404, "NoSuchKey")
    mp.put_symlink(bucket, "dangling", "nowhere")
    e = raises(lambda: mp.get(bucket, "dangling"))
    assert (e.status, e.code) == (404, "NoSuchKey")
    cluster.oss2_bucket(bucket).put_object("plain", b"x")
    e = raises(lambda: mp.get_symlink(bucket, "plain"))
    assert (e.status, e.code) == (400, "NotSymlink")


def test_forbid_overwrite_and_listing_of_symlinks(cluster: FerryCluster, bucket: str) -> None:
    b = cluster.oss2_bucket(bucket, v4=True)
    b.put_object("t", b"x")
    b.put_symlink("t", "s", headers={"x-oss-forbid-overwrite": "true"})
    with pytest.raises(oss2.exceptions.ServerError) as info:
        b.put_symlink("t", "s", headers={"x-oss-forbid-overwrite": "true"})
    assert info.value.code == "FileAlreadyExists"
    listed = {o.key: o.type for o in oss2.ObjectIteratorV2(b)}
    assert listed == {"s": "Symlink", "t": "Normal"}


def test_anonymous_reads_through_a_symlink_need_the_target_readable(
    cluster: FerryCluster, bucket: str
) -> None:
    b = cluster.oss2_bucket(bucket)
    b.put_object("secret", b"private bytes", headers={"x-oss-object-acl": "private"})
    b.put_object("open", b"public bytes")
    b.put_symlink("secret", "to-secret", headers={"x-oss-object-acl": "public-read"})
    b.put_symlink("open", "to-open", headers={"x-oss-object-acl": "public-read"})
    base = f"{cluster.region().endpoint}/{bucket}"
    assert requests.get(f"{base}/to-open", timeout=10).status_code == 403  # target inherits private bucket
    b.put_object_acl("open", "public-read")
    assert requests.get(f"{base}/to-open", timeout=10).content == b"public bytes"
    assert requests.get(f"{base}/to-secret", timeout=10).status_code == 403


def test_reads_during_appends_see_a_whole_prefix_never_an_error(cluster: FerryCluster, bucket: str) -> None:
    """Each append frees the previous blob; a GET that read the old version retries, never a 500."""
    writer, reader = cluster.oss2_bucket(bucket), cluster.oss2_bucket(bucket)
    line = b"0123456789abcdef" * 64  # 1 KiB a line: big enough to take a moment to read
    position = writer.append_object("tail", 0, line).next_position
    done = threading.Event()
    errors: list[BaseException] = []

    def append() -> None:
        nonlocal position
        try:
            for _ in range(150):
                position = writer.append_object("tail", position, line).next_position
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=append, daemon=True)
    thread.start()
    reads = 0
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        body = reader.get_object("tail", headers={"Accept-Encoding": "identity"}).read()
        assert len(body) % len(line) == 0 and body == line * (len(body) // len(line))
        reads += 1
    thread.join(timeout=30)
    assert not errors, errors
    assert reads > 0
    assert reader.get_object("tail").read() == line * 151
