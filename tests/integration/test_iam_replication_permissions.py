"""The six replication operations need exactly the permission the seeds name.

For each: a RAM user holding the other five (but not this one) gets 403 AccessDenied, and a RAM
user holding only this one succeeds -- through the alibabacloud-oss-v2 SDK, which has all six.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import alibabacloud_oss_v2 as oss
import pytest

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.iam_helpers import Creds, Iam, allow

SRC, DST = "oss-cn-hangzhou", "oss-cn-beijing"

ACTIONS = (
    "oss:PutBucketReplication",
    "oss:PutBucketRtc",
    "oss:GetBucketReplication",
    "oss:GetBucketReplicationLocation",
    "oss:GetBucketReplicationProgress",
    "oss:DeleteBucketReplication",
)


@dataclass
class World:
    cluster: FerryCluster
    src: str
    dst: str
    spare_dst: str
    rule_id: str


def _put(client: Any, w: World) -> Any:
    return client.put_bucket_replication(
        oss.PutBucketReplicationRequest(
            bucket=w.src,
            replication_configuration=oss.ReplicationConfiguration(
                rules=[
                    oss.ReplicationRule(
                        destination=oss.ReplicationDestination(
                            bucket=w.spare_dst, location=DST, transfer_type=oss.TransferType.INTERNAL
                        ),
                        action="ALL",
                    )
                ]
            ),
        )
    )


def _rtc(client: Any, w: World) -> Any:
    configuration = oss.RtcConfiguration(rtc=oss.ReplicationTimeControl(status="enabled"), id=w.rule_id)
    return client.put_bucket_rtc(oss.PutBucketRtcRequest(bucket=w.src, rtc_configuration=configuration))


def _get(client: Any, w: World) -> Any:
    return client.get_bucket_replication(oss.GetBucketReplicationRequest(bucket=w.src))


def _location(client: Any, w: World) -> Any:
    return client.get_bucket_replication_location(oss.GetBucketReplicationLocationRequest(bucket=w.src))


def _progress(client: Any, w: World) -> Any:
    request = oss.GetBucketReplicationProgressRequest(bucket=w.src, rule_id=w.rule_id)
    return client.get_bucket_replication_progress(request)


def _delete(client: Any, w: World) -> Any:
    rules = oss.ReplicationRules(ids=[w.rule_id])
    return client.delete_bucket_replication(
        oss.DeleteBucketReplicationRequest(bucket=w.src, replication_rules=rules)
    )


CALLS: dict[str, Callable[[Any, World], Any]] = {
    "oss:PutBucketReplication": _put,
    "oss:PutBucketRtc": _rtc,
    "oss:GetBucketReplication": _get,
    "oss:GetBucketReplicationLocation": _location,
    "oss:GetBucketReplicationProgress": _progress,
    "oss:DeleteBucketReplication": _delete,
}


@pytest.fixture
def world(cluster: FerryCluster) -> World:
    """A source bucket with one cross-region rule made by the owner, and a spare destination."""
    src = cluster.oss2_bucket(unique_bucket("perm-src"), region=SRC)
    dst = cluster.oss2_bucket(unique_bucket("perm-dst"), region=DST)
    spare = cluster.oss2_bucket(unique_bucket("perm-spare"), region=DST)
    for bucket in (src, dst, spare):
        bucket.create_bucket()
    rule = oss2_rule(dst.bucket_name)
    src.put_bucket_replication(rule)
    return World(cluster, src.bucket_name, dst.bucket_name, spare.bucket_name, rule.rule_id)


def oss2_rule(target: str) -> Any:
    from oss2.models import ReplicationRule

    return ReplicationRule(
        rule_id="perm-" + unique_bucket("r")[-8:],
        target_bucket_name=target,
        target_bucket_location=DST,
        target_transfer_type="oss_acc",
    )


def _status_and_code(call: Callable[[Any, World], Any], client: Any, w: World) -> tuple[int, str]:
    try:
        result = call(client, w)
    except oss.exceptions.OperationError as exc:
        error = exc.unwrap()
        assert isinstance(error, oss.exceptions.ServiceError), repr(error)
        return error.status_code, error.code
    return result.status_code, "OK"


@pytest.mark.parametrize("action", ACTIONS)
def test_lacking_exactly_the_permission_is_denied_and_holding_it_succeeds(world: World, action: str) -> None:
    iam = Iam.of(world.cluster)
    bucket_arn = f"acs:oss:*:*:{world.src}"
    lacking = iam.user(allow([a for a in ACTIONS if a != action], bucket_arn), wait=False)
    holding = iam.user(allow(action, bucket_arn))
    call = CALLS[action]

    assert _status_and_code(call, _client(lacking, world), world) == (403, "AccessDenied")
    assert _status_and_code(call, _client(holding, world), world) == (200, "OK")


def test_root_key_needs_no_policy(world: World) -> None:
    # The account's own key may do everything on its buckets, as before any policy existed.
    root = world.cluster.v2_client(region=SRC)
    for action in ("oss:GetBucketReplication", "oss:GetBucketReplicationLocation", "oss:PutBucketRtc"):
        assert _status_and_code(CALLS[action], root, world) == (200, "OK")


def test_a_permission_on_another_bucket_does_not_count(world: World) -> None:
    iam = Iam.of(world.cluster)
    elsewhere = iam.user(allow(list(ACTIONS), f"acs:oss:*:*:{world.dst}"))
    assert _status_and_code(_get, _client(elsewhere, world), world) == (403, "AccessDenied")


def _client(creds: Creds, w: World) -> Any:
    return creds.v2_client(w.cluster, region=SRC)
