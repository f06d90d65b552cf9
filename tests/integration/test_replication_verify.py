"""`ferry replication verify` finds exactly what was changed behind Ferry's back, and --repair fixes it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from typing import Any

from tests.integration.harness import FerryCluster
from tests.integration.replication_helpers import DST, SRC, body_of, exists, make_pair, wait_until


def ferry(cluster: FerryCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferry", "replication", *args, "--config", str(cluster.config_path)],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def verify(cluster: FerryCluster, bucket: str, rule: str, *extra: str) -> tuple[int, dict[str, Any]]:
    done = ferry(cluster, "verify", "--bucket", bucket, "--rule", rule, "--json", *extra)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def behind_ferrys_back(cluster: FerryCluster, region: str, sql: str, *args: object) -> None:
    """Change a region's metadata directly: no outbox, no replication, no status update."""
    with sqlite3.connect(cluster.data_dir(region) / "meta.sqlite3", timeout=30) as db:
        assert db.execute(sql, args).rowcount == 1


def test_verify_finds_exactly_the_injected_differences_and_repair_converges(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, prefixes=["data/"])
    keys = [f"data/{i:02d}" for i in range(12)]
    for key in keys:
        pair.src.put_object(key, f"body of {key}".encode(), headers={"x-oss-meta-origin": "src"})
    pair.src.put_object("other/not-replicated", b"outside the rule's prefix")
    wait_until(lambda: all(exists(pair.dst, k) for k in keys), what="the replicas")
    wait_until(
        lambda: pair.src.head_object(keys[-1]).headers.get("x-oss-replication-status") == "COMPLETED",
        what="the rule's queue to drain",
    )
    src_name, dst_name = pair.src.bucket_name, pair.dst.bucket_name

    code, clean = verify(cluster, src_name, pair.rule_id)
    assert (code, clean["differences"], clean["compared"]) == (0, [], len(keys))
    assert clean["consistent_up_to"] is not None

    where = "WHERE bucket = ? AND key = ?"
    behind_ferrys_back(cluster, DST, f"DELETE FROM versions {where}", dst_name, "data/01")
    behind_ferrys_back(cluster, DST, f"UPDATE versions SET etag = 'DEADBEEF' {where}", dst_name, "data/02")
    behind_ferrys_back(cluster, DST, f"UPDATE versions SET size = size + 1 {where}", dst_name, "data/03")
    behind_ferrys_back(
        cluster,
        DST,
        f'UPDATE versions SET user_meta = \'{{"origin": "forged"}}\' {where}',
        dst_name,
        "data/04",
    )
    behind_ferrys_back(cluster, SRC, f"DELETE FROM versions {where}", src_name, "data/05")
    # Outside the rule (prefix) at the destination: not the rule's business.
    pair.dst.put_object("elsewhere/own", b"written at the destination")

    code, found = verify(cluster, src_name, pair.rule_id)
    assert code == 1
    assert {(d["key"], d["kind"]) for d in found["differences"]} == {
        ("data/01", "missing"),
        ("data/02", "etag"),
        ("data/03", "size"),
        ("data/04", "metadata"),
        ("data/05", "extra"),
    }
    assert found["compared"] == len(keys) - 1
    assert found["in_flight"] == 0

    code, repaired = verify(cluster, src_name, pair.rule_id, "--repair", "--delete-extra")
    assert (code, repaired["repairs_queued"]) == (1, 5)

    def converged() -> bool:
        return verify(cluster, src_name, pair.rule_id)[0] == 0

    wait_until(converged, timeout=30, what="verify to find the buckets consistent after the repair")
    assert body_of(pair.dst, "data/01") == b"body of data/01"
    head = pair.dst.head_object("data/04")
    assert head.headers["x-oss-meta-origin"] == "src"
    assert pair.dst.head_object("data/02").etag == pair.src.head_object("data/02").etag
    assert pair.dst.head_object("data/03").content_length == len(b"body of data/03")
    assert not exists(pair.dst, "data/05")
    assert exists(pair.dst, "elsewhere/own")

    # The status command shows the proof.
    status = ferry(cluster, "status", "--bucket", src_name, "--json")
    assert status.returncode == 0, status.stderr
    (rule,) = json.loads(status.stdout)
    assert rule["verification"]["differences"] == 0
    assert rule["verification"]["consistent_up_to"] >= clean["consistent_up_to"]


def test_verify_versioned_pair(cluster: FerryCluster) -> None:
    """Versions keep their IDs: a lost version and changed metadata are repaired, changed bytes are not."""
    pair = make_pair(cluster, versioned=True)
    v1 = pair.src.put_object("v", b"first").versionid
    v2 = pair.src.put_object("v", b"second", headers={"x-oss-meta-n": "2"}).versionid
    marker = pair.src.delete_object("v").versionid
    pair.src.put_object("w", b"w")
    wait_until(lambda: exists(pair.dst, "w") and exists(pair.dst, "v", v1) and not exists(pair.dst, "v"))
    wait_until(
        lambda: pair.src.head_object("w").headers.get("x-oss-replication-status") == "COMPLETED",
        what="the queue to drain",
    )
    src_name, dst_name = pair.src.bucket_name, pair.dst.bucket_name
    assert verify(cluster, src_name, pair.rule_id)[0] == 0

    where = "WHERE bucket = ? AND key = ? AND version_id = ?"
    behind_ferrys_back(cluster, DST, f"DELETE FROM versions {where}", dst_name, "v", v1)
    behind_ferrys_back(cluster, DST, f"DELETE FROM versions {where}", dst_name, "v", marker)
    behind_ferrys_back(cluster, DST, f"UPDATE versions SET user_meta = '{{}}' {where}", dst_name, "v", v2)
    behind_ferrys_back(
        cluster, DST, "UPDATE versions SET etag = 'BAD' WHERE bucket = ? AND key = ?", dst_name, "w"
    )

    code, found = verify(cluster, src_name, pair.rule_id, "--repair")
    assert code == 1
    by_version = {(d["version_id"], d["kind"]): d for d in found["differences"]}
    assert set(by_version) == {
        (v1, "missing"),
        (marker, "delete_marker"),
        (v2, "metadata"),
        (
            pair.src.head_object("w").versionid,
            "etag",
        ),
    }
    assert by_version[(pair.src.head_object("w").versionid, "etag")]["repair"] is None
    assert found["repairs_queued"] == 3

    def only_the_bytes_differ() -> bool:
        _, again = verify(cluster, src_name, pair.rule_id)
        return [(d["key"], d["kind"]) for d in again["differences"]] == [("w", "etag")]

    wait_until(only_the_bytes_differ, timeout=30, what="the repairable differences to converge")
    assert pair.dst.get_object("v", params={"versionId": v1}).read() == b"first"
    assert pair.dst.head_object("v", params={"versionId": v2}).headers["x-oss-meta-n"] == "2"
    assert not exists(pair.dst, "v")  # the delete marker is back on top
