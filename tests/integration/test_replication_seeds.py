"""The seed documents' sample programs, run against Ferry with only endpoint, region and credentials set.

The oss2 (v1) samples hard-code an endpoint and example names, which their own
comments ask the reader to replace; the alibabacloud-oss-v2 samples take them
as command-line arguments.  Each sample runs as its own process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import oss2

from tests.integration.harness import FerryCluster, unique_bucket

SAMPLES = Path(__file__).parent / "seed_samples"
SRC_REGION, DST_REGION = "oss-cn-hangzhou", "oss-cn-beijing"


def run_sample(
    cluster: FerryCluster, name: str, *args: str, substitutions: dict[str, str] | None = None
) -> str:
    source = (SAMPLES / name).read_text()
    for old, new in (substitutions or {}).items():
        assert old in source, f"{old!r} not in {name}"
        source = source.replace(old, new)
    result = subprocess.run(
        [sys.executable, "-c", source, *args],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _buckets(cluster: FerryCluster) -> tuple[oss2.Bucket, oss2.Bucket]:
    src = cluster.oss2_bucket(unique_bucket("seed-src"), region=SRC_REGION)
    dst = cluster.oss2_bucket(unique_bucket("seed-dst"), region=DST_REGION)
    src.create_bucket()
    dst.create_bucket()
    return src, dst


def test_v1_samples_all_five_operations(cluster: FerryCluster) -> None:
    src, dst = _buckets(cluster)
    endpoint = {"'https://oss-cn-hangzhou.aliyuncs.com'": repr(cluster.region(SRC_REGION).endpoint)}
    on_src = {**endpoint, "'examplebucket'": repr(src.bucket_name)}

    run_sample(
        cluster,
        "v1_put_bucket_replication.py",
        substitutions={
            **endpoint,
            "'srcexamplebucket'": repr(src.bucket_name),
            "target_bucket_name='destexamplebucket'": f"target_bucket_name={dst.bucket_name!r}",
            # The first (live) placeholder ends the call; the commented-out example keeps its own.
            "location='yourTargetBucketLocation'\n)": f"location={DST_REGION!r}\n)",
        },
    )
    rules = src.get_bucket_replication().rule_list
    assert [(r.target_bucket_name, r.target_bucket_location) for r in rules] == [
        (dst.bucket_name, DST_REGION)
    ]
    rule_id = rules[0].rule_id

    out = run_sample(cluster, "v1_get_bucket_replication.py", substitutions=on_src)
    assert out.split() == [rule_id, dst.bucket_name, DST_REGION]

    out = run_sample(cluster, "v1_get_bucket_replication_location.py", substitutions=on_src)
    assert set(out.split()) == {SRC_REGION, DST_REGION}

    by_id = {**on_src, "'test_replication_1'": repr(rule_id)}
    out = run_sample(cluster, "v1_get_bucket_replication_progress.py", substitutions=by_id)
    lines = out.splitlines()
    assert lines[0] == rule_id
    assert lines[1] == "True"  # historical replication is on by default
    assert 0.0 <= float(lines[2]) <= 1.0

    run_sample(cluster, "v1_delete_bucket_replication.py", substitutions=by_id)
    assert [r.status for r in src.get_bucket_replication().rule_list] == ["closing"]


def test_v2_samples_all_six_operations(cluster: FerryCluster) -> None:
    src, dst = _buckets(cluster)
    region = cluster.region(SRC_REGION)
    common = ["--region", region.short, "--endpoint", region.endpoint, "--bucket", src.bucket_name]

    out = run_sample(
        cluster,
        "v2_put_bucket_replication.py",
        *common,
        "--sync_role",
        "ferry-sync-role",
        "--target_bucket",
        dst.bucket_name,
        "--target_location",
        DST_REGION,
    )
    assert out.startswith("status code: 200")
    rules = src.get_bucket_replication().rule_list
    assert len(rules) == 1
    rule = rules[0]
    assert (rule.target_bucket_name, rule.target_bucket_location) == (dst.bucket_name, DST_REGION)
    assert sorted(rule.prefix_list) == ["aaa/", "bbb/"]
    assert rule.sync_role_name == "ferry-sync-role"
    assert rule.sse_kms_encrypted_objects_status == "Enabled"
    assert rule.is_enable_historical_object_replication is False

    out = run_sample(cluster, "v2_get_bucket_replication.py", *common)
    assert f"id: {rule.rule_id}" in out and "status: starting" in out

    out = run_sample(
        cluster, "v2_put_bucket_rtc.py", *common, "--rule_id", rule.rule_id, "--status", "enabled"
    )
    assert out.startswith("status code: 200")
    # oss2 does not model RTC: read it back through the v2 SDK.
    import alibabacloud_oss_v2 as oss

    v2_rules = (
        cluster.v2_client()
        .get_bucket_replication(oss.GetBucketReplicationRequest(bucket=src.bucket_name))
        .replication_configuration.rules
    )
    assert v2_rules[0].rtc.status == "enabled"

    out = run_sample(cluster, "v2_get_bucket_replication_location.py", *common)
    assert f"location: {DST_REGION}" in out

    out = run_sample(cluster, "v2_get_bucket_replication_progress.py", *common, "--rule_id", rule.rule_id)
    assert f"id: {rule.rule_id}" in out

    out = run_sample(cluster, "v2_delete_bucket_replication.py", *common, "--rule_id", rule.rule_id)
    assert out.startswith("status code: 200")
    assert [r.status for r in src.get_bucket_replication().rule_list] == ["closing"]
