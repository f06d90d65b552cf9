"""A small vocabulary for replication scenarios: rules, waiting for convergence, comparing buckets."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import oss2
from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster, unique_bucket

SRC, DST = "oss-cn-hangzhou", "oss-cn-beijing"


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Pair:
    src: oss2.Bucket
    dst: oss2.Bucket
    rule_id: str


def make_pair(
    cluster: FerryCluster,
    *,
    dst_region: str = DST,
    versioned: bool = False,
    prefixes: list[str] | None = None,
    action: str = "ALL",
    historical: bool = True,
    before_rule: Callable[[oss2.Bucket], None] | None = None,
) -> Pair:
    src = cluster.oss2_bucket(unique_bucket("src"), region=SRC)
    dst = cluster.oss2_bucket(unique_bucket("dst"), region=dst_region)
    src.create_bucket()
    dst.create_bucket()
    if versioned:
        for b in (src, dst):
            b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    if before_rule is not None:
        before_rule(src)
    rule = ReplicationRule(
        rule_id="rule-" + unique_bucket("r")[-8:],
        prefix_list=prefixes or [],
        action_list=[action],
        target_bucket_name=dst.bucket_name,
        target_bucket_location=dst_region,
        is_enable_historical_object_replication=historical,
    )
    src.put_bucket_replication(rule)
    return Pair(src, dst, rule.rule_id)


def exists(bucket: oss2.Bucket, key: str, version_id: str | None = None) -> bool:
    params = {"versionId": version_id} if version_id else None
    try:
        bucket.head_object(key, params=params)
    except oss2.exceptions.ServerError as error:
        # A HEAD's 404 carries its code in x-oss-err (NoSuchKey, NoSuchVersion, ...).
        if error.status == 404:
            return False
        raise
    return True


def body_of(bucket: oss2.Bucket, key: str) -> bytes:
    data: bytes = bucket.get_object(key).read()
    return data


def listing(bucket: oss2.Bucket) -> dict[str, str]:
    """key -> ETag of the latest versions."""
    return {o.key: o.etag for o in oss2.ObjectIterator(bucket)}
