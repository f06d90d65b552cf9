"""A backlog of small objects crosses regions in batches (FerryPutReplicaBatch), and the
replicas are the same as those sent one by one: bytes, ETag, metadata, tags, ACL, versions."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import oss2
import pytest

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, listing, make_pair, wait_until


@pytest.fixture
def lone_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path).start_each()
    try:
        yield cluster
    finally:
        cluster.stop()


def _described(bucket: oss2.Bucket, key: str) -> tuple[object, ...]:
    head = bucket.head_object(key)
    return (
        head.etag,
        head.headers.get("Content-Type"),
        head.headers.get("x-oss-meta-n"),
        head.headers.get("x-oss-hash-crc64ecma"),
        tuple(sorted(bucket.get_object_tagging(key).tag_set.tagging_rule.items())),
        bucket.get_object_acl(key).acl,
        bucket.get_object(key).read(),
    )


@pytest.mark.parametrize("versioned", [False, True])
def test_a_backlog_of_small_objects_goes_in_batches(lone_cluster: FerryCluster, versioned: bool) -> None:
    pair = make_pair(lone_cluster, versioned=versioned)
    src, dst = pair.src, pair.dst
    lone_cluster.kill_region(DST)
    for i in range(300):
        headers = {"Content-Type": "text/plain", "x-oss-meta-n": str(i), "x-oss-tagging": f"n={i}"}
        if i % 7 == 0:
            headers["x-oss-object-acl"] = "public-read"
        src.put_object(f"small/{i:03d}", f"body {i} ".encode() * (i + 1), headers=headers)
    src.put_object("small/000", b"overwritten", headers={"x-oss-meta-n": "again"})
    src.put_object("big", b"b" * (256 * 1024))  # beyond the batch limit: sent on its own
    src.delete_object("small/001")
    lone_cluster.start_region(DST, "--log-level", "info", "--access-log")
    subprocess.run(
        [sys.executable, "-m", "ferry", "replication", "retry", "--config", str(lone_cluster.config_path)],
        env=lone_cluster.env,
        check=True,
        capture_output=True,
    )
    expected = listing(src)
    wait_until(lambda: listing(dst) == expected, timeout=90, what="the backlog at the destination")
    for key in ("small/000", "small/002", "small/007", "small/299", "big"):
        assert _described(dst, key) == _described(src, key), key
    if versioned:
        source_versions = {v.versionid for v in src.list_object_versions(prefix="small/000").versions}
        wait_until(
            lambda: (
                {v.versionid for v in dst.list_object_versions(prefix="small/000").versions}
                == source_versions
            ),
            what="both versions of small/000",
        )

    log_lines = (lone_cluster.root / f"{DST}.log").read_text().splitlines()
    access = [line for line in log_lines if line.startswith("{") and '"ferry.access"' in line]
    apis = [json.loads(line).get("api") for line in access]
    batches, singles = apis.count("FerryPutReplicaBatch"), apis.count("FerryPutReplica")
    print(f"{batches} batch requests, {singles} single replica PUTs for 302 objects")
    assert batches >= 1
    assert batches + singles < 150  # most objects travelled many per request
