"""RestoreObject end to end: cold objects are frozen until restored, as OSS answers oss2 and v2."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2.models import BucketCreateConfig, BucketVersioningConfig, RestoreConfiguration, RestoreJobParameters

from tests.integration.harness import FerryCluster, unique_bucket

READY_SECONDS = 1.5
"""How long an Archive (and an Expedited ColdArchive) restore stays ongoing in this cluster."""


@pytest.fixture(scope="module")
def thawing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerryCluster]:
    extra = (
        f"\n[restore]\narchive_seconds = {READY_SECONDS}\n"
        f"cold_archive_expedited_seconds = {READY_SECONDS}\ncold_archive_standard_seconds = 3600\n"
    )
    c = FerryCluster.create(tmp_path_factory.mktemp("restore"), extra).start()
    try:
        yield c
    finally:
        c.stop()


def _eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.1)


def _archive_bucket(cluster: FerryCluster) -> oss2.Bucket:
    b = cluster.oss2_bucket(unique_bucket("thaw"))
    b.create_bucket(oss2.BUCKET_ACL_PRIVATE, BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_ARCHIVE))
    return b


def test_an_archive_object_is_frozen_until_restored(thawing: FerryCluster) -> None:
    b = _archive_bucket(thawing)
    b.put_object("a.txt", b"cold bytes")
    head = b.head_object("a.txt")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert "x-oss-restore" not in head.headers
    with pytest.raises(oss2.exceptions.ServerError) as frozen:
        b.get_object("a.txt")
    assert (frozen.value.status, frozen.value.code) == (403, "InvalidObjectState")

    assert b.restore_object("a.txt").status == 202
    assert b.head_object("a.txt").headers["x-oss-restore"] == 'ongoing-request="true"'
    with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress):
        b.restore_object("a.txt")
    with pytest.raises(oss2.exceptions.ServerError):
        b.get_object("a.txt")

    _eventually(lambda: b.head_object("a.txt").headers["x-oss-restore"].startswith('ongoing-request="false"'))
    status = b.head_object("a.txt").headers["x-oss-restore"]
    assert 'expiry-date="' in status and status.endswith(' GMT"')
    got = b.get_object("a.txt")
    assert got.read() == b"cold bytes" and got.headers["x-oss-restore"] == status
    assert b.restore_object("a.txt").status == 200  # a restored copy: its days are extended


def test_listings_carry_the_restore_info(thawing: FerryCluster) -> None:
    b = thawing.oss2_bucket(unique_bucket("thaw-list"))
    b.create_bucket()
    b.put_object("cold/a", b"a", headers={"x-oss-storage-class": "Archive"})
    b.put_object("cold/b", b"b", headers={"x-oss-storage-class": "Archive"})
    b.put_object("warm", b"w")
    b.restore_object("cold/a")
    for listed in (b.list_objects().object_list, b.list_objects_v2().object_list):
        info = {o.key: o.restore_info for o in listed}
        assert info == {"cold/a": 'ongoing-request="true"', "cold/b": None, "warm": None}
    versions = b.list_object_versions().versions
    assert {v.key: v.restore_info for v in versions}["cold/a"] == 'ongoing-request="true"'


def test_requests_refused_as_oss_refuses_them(thawing: FerryCluster) -> None:
    b = thawing.oss2_bucket(unique_bucket("thaw-bad"))
    b.create_bucket()
    b.put_object("warm", b"w")
    b.put_object("arch", b"a", headers={"x-oss-storage-class": "Archive"})
    b.put_object("coldarch", b"c", headers={"x-oss-storage-class": "ColdArchive"})
    with pytest.raises(oss2.exceptions.OperationNotSupported):
        b.restore_object("warm")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.restore_object("never-written")
    with_tier = RestoreConfiguration(days=2, job_parameters=RestoreJobParameters("Bulk"))
    with pytest.raises(oss2.exceptions.MalformedXml):
        b.restore_object("arch", input=with_tier)
    with pytest.raises(oss2.exceptions.InvalidArgument):
        b.restore_object("arch", input=RestoreConfiguration(days=8))
    wrong = RestoreConfiguration(days=5, job_parameters=RestoreJobParameters("wrong-tier"))
    with pytest.raises(oss2.exceptions.InvalidArgument):
        b.restore_object("coldarch", input=wrong)


def test_cold_archive_tiers(thawing: FerryCluster) -> None:
    b = thawing.oss2_bucket(unique_bucket("thaw-tier"))
    b.create_bucket()
    for key in ("fast", "slow"):
        b.put_object(key, key.encode(), headers={"x-oss-storage-class": "ColdArchive"})
    fast = b.restore_object("fast", input=RestoreConfiguration(5, RestoreJobParameters("Expedited")))
    assert (fast.status, fast.headers["x-oss-object-restore-priority"]) == (202, "Expedited")
    slow = b.restore_object("slow")  # Standard: an hour in this cluster
    assert slow.headers["x-oss-object-restore-priority"] == "Standard"
    _eventually(lambda: b.get_object("fast").read() == b"fast" if _readable(b, "fast") else False)
    assert b.head_object("slow").headers["x-oss-restore"] == 'ongoing-request="true"'


def _readable(b: oss2.Bucket, key: str) -> bool:
    try:
        b.head_object(key)
        b.get_object(key).read()
    except oss2.exceptions.ServerError:
        return False
    return True


def test_each_version_is_restored_on_its_own(thawing: FerryCluster) -> None:
    b = _archive_bucket(thawing)
    b.put_bucket_versioning(BucketVersioningConfig("Enabled"))
    v1 = b.put_object("k", b"one").versionid
    v2 = b.put_object("k", b"two").versionid
    restored = b.restore_object("k", params={"versionId": v1})
    assert (restored.status, restored.headers["x-oss-version-id"]) == (202, v1)
    _eventually(lambda: _readable_version(b, "k", v1))
    assert b.get_object("k", params={"versionId": v1}).read() == b"one"
    with pytest.raises(oss2.exceptions.ServerError):
        b.get_object("k")  # the current version, v2, is still frozen
    assert b.restore_object("k", params={"versionId": v2}).headers["x-oss-version-id"] == v2


def _readable_version(b: oss2.Bucket, key: str, version_id: str) -> bool:
    try:
        b.get_object(key, params={"versionId": version_id}).read()
    except oss2.exceptions.ServerError:
        return False
    return True


def test_an_overwrite_is_frozen_again_and_a_copy_needs_a_restored_source(thawing: FerryCluster) -> None:
    b = _archive_bucket(thawing)
    b.put_object("k", b"first")
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        b.copy_object(b.bucket_name, "k", "copy", headers={"x-oss-storage-class": "Standard"})
    assert refused.value.code == "InvalidObjectState"
    b.restore_object("k")
    _eventually(lambda: _readable(b, "k"))
    b.copy_object(b.bucket_name, "k", "copy", headers={"x-oss-storage-class": "Standard"})
    assert b.get_object("copy").read() == b"first"
    b.put_object("k", b"second")  # a new version: frozen, whatever the old one was
    assert "x-oss-restore" not in b.head_object("k").headers
    assert not _readable(b, "k")


def test_a_restore_survives_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("restore-restart")
    cluster = FerryCluster.create(root, "\n[restore]\narchive_seconds = 3600\n").start()
    try:
        b = _archive_bucket(cluster)
        b.put_object("k", b"x")
        b.restore_object("k")
    finally:
        cluster.stop()
    cluster.start()
    try:
        assert b.head_object("k").headers["x-oss-restore"] == 'ongoing-request="true"'
        with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress):
            b.restore_object("k")
    finally:
        cluster.stop()


def test_v2_sdk_and_presigned_get(thawing: FerryCluster) -> None:
    b = thawing.oss2_bucket(unique_bucket("thaw-v2"))
    b.create_bucket()
    b.put_object("k", b"v2 bytes", headers={"x-oss-storage-class": "ColdArchive"})
    client = thawing.v2_client()
    result = client.restore_object(
        oss.RestoreObjectRequest(
            bucket=b.bucket_name,
            key="k",
            restore_request=oss.RestoreRequest(days=3, job_parameters=oss.JobParameters(tier="Expedited")),
        )
    )
    assert (result.status_code, result.restore_priority) == (202, "Expedited")
    url = b.sign_url("GET", "k", 60)
    frozen = requests.get(url, timeout=10)
    assert frozen.status_code == 403 and b"<Code>InvalidObjectState</Code>" in frozen.content
    _eventually(lambda: requests.get(url, timeout=10).status_code == 200)
    assert requests.get(url, timeout=10).content == b"v2 bytes"
