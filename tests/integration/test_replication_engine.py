"""Replication as a user sees it: two real region processes, one behaviour per test."""

from __future__ import annotations

import oss2
import pytest
from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import (
    SRC,
    body_of,
    exists,
    listing,
    make_pair,
    wait_until,
)


def test_crr_put_carries_bytes_and_metadata(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    headers = {
        "Content-Type": "text/plain",
        "Content-Disposition": "attachment",
        "Cache-Control": "no-cache",
        "x-oss-meta-color": "blue",
        "x-oss-object-acl": "public-read",
        "x-oss-tagging": "team=a&tier=1",
    }
    put = pair.src.put_object("docs/a.txt", b"hello replication", headers=headers)
    wait_until(lambda: exists(pair.dst, "docs/a.txt"), what="the replica")
    src_head = pair.src.head_object("docs/a.txt")
    dst_head = pair.dst.head_object("docs/a.txt")
    assert body_of(pair.dst, "docs/a.txt") == b"hello replication"
    assert dst_head.etag == put.etag
    assert dst_head.headers["x-oss-hash-crc64ecma"] == put.headers["x-oss-hash-crc64ecma"]
    for name in ("Content-Type", "Content-Disposition", "Cache-Control", "x-oss-meta-color"):
        assert dst_head.headers[name] == src_head.headers[name]
    assert pair.dst.get_object_acl("docs/a.txt").acl == "public-read"
    assert dst_head.headers["x-oss-tagging-count"] == "2"
    assert dst_head.headers["x-oss-replication-status"] == "REPLICA"
    wait_until(
        lambda: pair.src.head_object("docs/a.txt").headers.get("x-oss-replication-status") == "COMPLETED",
        what="COMPLETED at the source",
    )


def test_overwrite_is_replicated(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    pair.src.put_object("k", b"one")
    wait_until(lambda: exists(pair.dst, "k"))
    pair.src.put_object("k", b"two")
    wait_until(lambda: body_of(pair.dst, "k") == b"two", what="the overwrite")


def test_delete_is_replicated_under_action_all(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, action="ALL")
    pair.src.put_object("gone", b"x")
    pair.src.put_object("gone-too", b"x")
    wait_until(lambda: exists(pair.dst, "gone") and exists(pair.dst, "gone-too"))
    pair.src.delete_object("gone")
    pair.src.batch_delete_objects(["gone-too"])
    wait_until(lambda: not exists(pair.dst, "gone") and not exists(pair.dst, "gone-too"), what="the deletes")


def test_delete_is_not_replicated_under_action_put(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, action="PUT")
    pair.src.put_object("stays", b"x")
    wait_until(lambda: exists(pair.dst, "stays"))
    pair.src.delete_object("stays")
    # A later write proves the queue has moved past the delete.
    pair.src.put_object("marker", b"m")
    wait_until(lambda: exists(pair.dst, "marker"))
    assert exists(pair.dst, "stays")


def test_prefix_filter(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, prefixes=["logs/", "img/"])
    for key in ("logs/1", "img/2", "other/3", "log"):
        pair.src.put_object(key, b"x")
    wait_until(lambda: exists(pair.dst, "logs/1") and exists(pair.dst, "img/2"))
    pair.src.put_object("img/last", b"x")
    wait_until(lambda: exists(pair.dst, "img/last"))
    assert set(listing(pair.dst)) == {"logs/1", "img/2", "img/last"}


def test_copy_and_acl_changes_are_replicated(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    pair.src.put_object("orig", b"copy me")
    pair.src.copy_object(pair.src.bucket_name, "orig", "copy")
    wait_until(lambda: exists(pair.dst, "copy"))
    assert body_of(pair.dst, "copy") == b"copy me"
    pair.src.put_object_acl("orig", oss2.OBJECT_ACL_PUBLIC_READ)
    wait_until(lambda: exists(pair.dst, "orig") and pair.dst.get_object_acl("orig").acl == "public-read")


def test_same_region_replication(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, dst_region=SRC)
    pair.src.put_object("s", b"same region")
    wait_until(lambda: exists(pair.dst, "s"))
    assert body_of(pair.dst, "s") == b"same region"
    assert pair.dst.head_object("s").headers["x-oss-replication-status"] == "REPLICA"


def test_historical_objects_are_copied_and_progress_reaches_one(cluster: FerryCluster) -> None:
    def before(src: oss2.Bucket) -> None:
        for i in range(30):
            src.put_object(f"old/{i:02d}", f"old {i}".encode())

    pair = make_pair(cluster, before_rule=before)
    wait_until(lambda: len(listing(pair.dst)) == 30, what="the backfill")
    wait_until(
        lambda: (
            pair.src.get_bucket_replication_progress(pair.rule_id).progress.historical_object_progress == 1.0
        ),
        what="historical progress 1.0",
    )
    progress = pair.src.get_bucket_replication_progress(pair.rule_id).progress
    assert progress.status == "doing"
    assert progress.new_object_progress  # a GMT time once the rule is running


def test_historical_disabled_copies_only_new_objects(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, historical=False, before_rule=lambda src: src.put_object("old", b"x"))
    pair.src.put_object("new", b"y")
    wait_until(lambda: exists(pair.dst, "new"))
    wait_until(lambda: pair.src.get_bucket_replication().rule_list[0].status == "doing")
    pair.src.put_object("newer", b"z")
    wait_until(lambda: exists(pair.dst, "newer"))
    assert not exists(pair.dst, "old")


def test_versioned_replication_keeps_version_ids_and_markers(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, versioned=True)
    v1 = pair.src.put_object("v", b"first").versionid
    v2 = pair.src.put_object("v", b"second").versionid
    wait_until(lambda: exists(pair.dst, "v", v1) and exists(pair.dst, "v", v2), what="both versions")
    assert pair.dst.get_object("v", params={"versionId": v1}).read() == b"first"
    assert body_of(pair.dst, "v") == b"second"
    marker = pair.src.delete_object("v")
    assert marker.delete_marker
    wait_until(lambda: not exists(pair.dst, "v"), what="the delete marker")
    assert exists(pair.dst, "v", v1)
    pair.src.delete_object("v", params={"versionId": v1})
    wait_until(lambda: not exists(pair.dst, "v", v1), what="the version delete")
    assert exists(pair.dst, "v", v2)


def test_replicas_are_not_replicated_again(cluster: FerryCluster) -> None:
    """A->B plus B->A must not loop; A->B->C must not chain."""
    a = cluster.oss2_bucket(unique_bucket("loop-a"), region=SRC)
    b = cluster.oss2_bucket(unique_bucket("loop-b"), region="oss-cn-beijing")
    c = cluster.oss2_bucket(unique_bucket("loop-c"), region=SRC)
    for bucket in (a, b, c):
        bucket.create_bucket()

    def rule(target: oss2.Bucket, region: str) -> ReplicationRule:
        return ReplicationRule(target_bucket_name=target.bucket_name, target_bucket_location=region)

    a.put_bucket_replication(rule(b, "oss-cn-beijing"))
    b.put_bucket_replication(rule(a, SRC))
    b.put_bucket_replication(rule(c, SRC))
    a.put_object("from-a", b"a")
    wait_until(lambda: exists(b, "from-a"))
    b.put_object("from-b", b"b")
    wait_until(lambda: exists(a, "from-b") and exists(c, "from-b"))
    assert a.head_object("from-a").headers.get("x-oss-replication-status") != "REPLICA"
    assert not exists(c, "from-a")  # no chain A -> B -> C


def test_deleted_rule_stops_replication_and_replicas_stay(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    pair.src.put_object("before", b"x")
    wait_until(lambda: exists(pair.dst, "before"))
    pair.src.delete_bucket_replication(pair.rule_id)
    assert pair.src.get_bucket_replication().rule_list[0].status == "closing"

    def gone() -> bool:
        try:
            pair.src.get_bucket_replication()
        except oss2.exceptions.OssError as error:
            assert (error.status, error.code) == (404, "NoSuchReplicationConfiguration")
            return True
        return False

    wait_until(gone, what="the rule to disappear")
    pair.src.put_object("after", b"y")
    pair.src.delete_object("before")
    other = make_pair(cluster)  # a live rule elsewhere shows the engine is still working
    other.src.put_object("probe", b"p")
    wait_until(lambda: exists(other.dst, "probe"))
    assert exists(pair.dst, "before")
    assert not exists(pair.dst, "after")


@pytest.mark.slow
def test_large_object_crr_is_streamed(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    size = 48 * 1024 * 1024
    chunk = bytes(range(256)) * 4096

    def data():  # type: ignore[no-untyped-def]
        for _ in range(size // len(chunk)):
            yield chunk

    put = pair.src.put_object("big", data())
    wait_until(lambda: exists(pair.dst, "big"), timeout=60)
    head = pair.dst.head_object("big")
    assert head.content_length == size
    assert head.etag == put.etag
    assert head.headers["x-oss-hash-crc64ecma"] == put.headers["x-oss-hash-crc64ecma"]
