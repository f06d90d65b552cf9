"""An object above [replication] multipart_threshold_bytes crosses regions as a multipart upload
at the destination (two real region processes), and its replica is indistinguishable from a PUT's."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import crcmod
import oss2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, SRC, body_of, exists, make_pair, wait_until

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)

THRESHOLD = 1024 * 1024
PART = 1024 * 1024 + 3
"""Not a multiple of the 16-byte cipher block: every part of an encrypted source starts mid-block."""


@pytest.fixture
def big_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(
        tmp_path,
        extra_config=(
            "\n[replication]\nrule_settle_seconds = 0.2\n"
            f"multipart_threshold_bytes = {THRESHOLD}\nmultipart_part_bytes = {PART}\n"
        ),
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _uploads(bucket: oss2.Bucket) -> list[str]:
    return [u.upload_id for u in oss2.MultipartUploadIterator(bucket)]


def _calls(cluster: FerryCluster, region: str) -> dict[str, float]:
    """Successful requests per API at a region (its /metrics)."""
    with urllib.request.urlopen(cluster.region(region).endpoint + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        sample.labels["api"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ferry_http_requests_total" and sample.labels.get("code") == "200"
    }


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "sse"])
def test_a_big_object_replicates_in_parts_and_leaves_no_upload_behind(
    big_cluster: FerryCluster, encrypted: bool
) -> None:
    pair = make_pair(big_cluster)
    data = os.urandom(5 * 1024 * 1024 + 12345)  # 6 parts, the last a short one
    headers = {
        "Content-Type": "application/x-big",
        "Content-Disposition": 'attachment; filename="big.bin"',
        "x-oss-meta-owner": "team-a",
        "x-oss-meta-note": "five mebibytes",
        "x-oss-object-acl": "public-read",
        "x-oss-tagging": "team=a&tier=1",
    }
    if encrypted:
        headers["x-oss-server-side-encryption"] = "AES256"
    put = pair.src.put_object("big/blob.bin", data, headers=headers)

    wait_until(lambda: exists(pair.dst, "big/blob.bin"), timeout=60, what="the big replica")
    replica = pair.dst.head_object("big/blob.bin")
    assert replica.etag == put.etag
    assert replica.headers["x-oss-hash-crc64ecma"] == put.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    assert replica.object_type == "Normal"  # a PUT's replica, not a multipart object of its own
    assert replica.content_length == len(data)
    assert replica.content_type == "application/x-big"
    assert replica.headers["Content-Disposition"] == 'attachment; filename="big.bin"'
    assert replica.headers["x-oss-meta-owner"] == "team-a"
    assert replica.headers["x-oss-meta-note"] == "five mebibytes"
    assert replica.headers["x-oss-replication-status"] == "REPLICA"
    assert replica.headers["x-oss-tagging-count"] == "2"
    assert pair.dst.get_object_tagging("big/blob.bin").tag_set.tagging_rule == {"team": "a", "tier": "1"}
    assert pair.dst.get_object_acl("big/blob.bin").acl == "public-read"
    if encrypted:
        assert replica.headers["x-oss-server-side-encryption"] == "AES256"
    assert body_of(pair.dst, "big/blob.bin") == data
    # A range inside the fourth part reads back the source's bytes too.
    start = 3 * PART + 777
    ranged = pair.dst.get_object("big/blob.bin", byte_range=(start, start + 99_999)).read()
    assert ranged == data[start : start + 100_000]

    wait_until(
        lambda: pair.src.head_object("big/blob.bin").headers.get("x-oss-replication-status") == "COMPLETED",
        what="COMPLETED at the source",
    )
    assert _uploads(pair.dst) == []
    # It went as one upload of six parts, not as a single replicated PUT.
    calls = _calls(big_cluster, DST)
    assert calls.get("FerryInitiateReplicaUpload") == 1
    assert calls.get("FerryUploadReplicaPart") == 6
    assert calls.get("FerryCompleteReplicaUpload") == 1
    assert calls.get("FerryPutReplica", 0) == 0


def test_a_newer_big_write_wins_and_no_upload_is_left(big_cluster: FerryCluster) -> None:
    """Two big versions of one key in a row: the destination ends with the second, in order."""
    pair = make_pair(big_cluster)
    first, second = os.urandom(2 * 1024 * 1024 + 1), os.urandom(3 * 1024 * 1024 + 7)
    pair.src.put_object("k", first, headers={"x-oss-meta-gen": "1"})
    put = pair.src.put_object("k", second, headers={"x-oss-meta-gen": "2"})
    wait_until(
        lambda: exists(pair.dst, "k") and pair.dst.head_object("k").etag == put.etag,
        timeout=60,
        what="the second version at the destination",
    )
    wait_until(
        lambda: pair.src.head_object("k").headers.get("x-oss-replication-status") == "COMPLETED",
        what="COMPLETED at the source",
    )
    replica = pair.dst.head_object("k")
    assert replica.headers["x-oss-meta-gen"] == "2"
    assert replica.headers["x-oss-hash-crc64ecma"] == str(crc64(second))
    assert body_of(pair.dst, "k") == second
    assert _uploads(pair.dst) == []
    assert _calls(big_cluster, DST).get("FerryPutReplica", 0) == 0


def test_an_object_at_the_threshold_goes_as_one_put(big_cluster: FerryCluster) -> None:
    pair = make_pair(big_cluster)
    data = os.urandom(THRESHOLD)
    put = pair.src.put_object("edge", data, headers={"x-oss-meta-at": "threshold"})
    wait_until(lambda: exists(pair.dst, "edge"), timeout=60, what="the replica")
    replica = pair.dst.head_object("edge")
    assert replica.etag == put.etag and replica.headers["x-oss-meta-at"] == "threshold"
    assert body_of(pair.dst, "edge") == data
    calls = _calls(big_cluster, DST)
    assert calls.get("FerryPutReplica") == 1
    assert calls.get("FerryInitiateReplicaUpload", 0) == 0


@pytest.fixture
def lone_big_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(
        tmp_path,
        extra_config=(
            "\n[replication]\nrule_settle_seconds = 0.2\nlease_seconds = 2\n"
            f"multipart_threshold_bytes = {THRESHOLD}\nmultipart_part_bytes = {THRESHOLD}\n"
        ),
    ).start_each()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_a_source_killed_mid_upload_resumes_the_same_upload(lone_big_cluster: FerryCluster) -> None:
    """kill -9 of the source while parts are arriving: the retried task finds its upload at the
    destination and sends only the parts it lacks; nothing is left behind."""
    cluster = lone_big_cluster
    pair = make_pair(cluster)
    parts = 48
    data = os.urandom(parts * THRESHOLD)
    put = pair.src.put_object("huge", data, headers={"x-oss-meta-size": "48MiB"})

    seen: dict[str, int] = {}

    def some_parts_arrived() -> bool:
        for upload in oss2.MultipartUploadIterator(pair.dst):
            held = sum(1 for _ in oss2.PartIterator(pair.dst, "huge", upload.upload_id))
            if held >= 2:
                seen[upload.upload_id] = held
                return True
        return False

    wait_until(some_parts_arrived, timeout=60, what="parts of the replica upload")
    cluster.kill_region(SRC)
    ((upload_id, held_at_kill),) = seen.items()
    still_there = [u.upload_id for u in oss2.MultipartUploadIterator(pair.dst)]
    # The upload may have completed between the look and the kill; usually it is still there.
    cluster.start_region(SRC)
    wait_until(
        lambda: exists(pair.dst, "huge") and pair.dst.head_object("huge").etag == put.etag,
        timeout=60,
        what="the replica after the restart",
    )
    replica = pair.dst.head_object("huge")
    assert replica.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    assert replica.headers["x-oss-meta-size"] == "48MiB"
    assert body_of(pair.dst, "huge") == data
    wait_until(lambda: _uploads(pair.dst) == [], what="no upload left at the destination")
    calls = _calls(cluster, DST)
    if still_there == [upload_id]:
        # Resumed: one upload, two Initiates, and every part taken exactly once (a part cut off
        # by the kill was never taken; the ones held were not sent again).
        assert held_at_kill < parts
        assert calls.get("FerryInitiateReplicaUpload") == 2
        assert calls.get("FerryUploadReplicaPart") == parts
    else:  # rare: it had completed just before the kill (a retry may have sent it again whole)
        assert calls.get("FerryUploadReplicaPart") in (parts, 2 * parts)
