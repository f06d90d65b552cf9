"""Every replication error code, with the request that triggers it, against real region processes.

(NoReplicationLocation needs a region without routes, which the two-region default does not
have: ``tests/unit/test_replication_rules.py`` covers it.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import oss2
import pytest
import requests

from tests.integration.harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FerryCluster, unique_bucket

SRC, DST = "oss-cn-hangzhou", "oss-cn-beijing"


@dataclass
class World:
    cluster: FerryCluster
    src: oss2.Bucket
    dst: oss2.Bucket

    def send(
        self, method: str, params: dict[str, str], body: bytes = b"", bucket: str | None = None
    ) -> requests.Response:
        """A V1-signed request to the source region, built and signed as oss2 would."""
        name = bucket or self.src.bucket_name
        req = oss2.http.Request(
            method, "http://unused", params=dict(params), headers={}, region="cn-hangzhou"
        )
        oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET)._sign_request(req, name, "")
        url = f"{self.cluster.region(SRC).endpoint}/{name}/"
        return requests.request(method, url, params=params, headers=dict(req.headers), data=body, timeout=30)

    def add_rule(self, rule_xml: str, bucket: str | None = None) -> requests.Response:
        body = f"<ReplicationConfiguration>{rule_xml}</ReplicationConfiguration>".encode()
        return self.send("POST", {"replication": "", "comp": "add"}, body, bucket)


def rule(bucket: str, location: str = DST, extra: str = "", transfer: str = "") -> str:
    transfer_el = f"<TransferType>{transfer}</TransferType>" if transfer else ""
    return (
        f"<Rule>{extra}<Destination><Bucket>{bucket}</Bucket><Location>{location}</Location>"
        f"{transfer_el}</Destination></Rule>"
    )


@pytest.fixture
def world(cluster: FerryCluster) -> World:
    src = cluster.oss2_bucket(unique_bucket("err-src"), region=SRC)
    dst = cluster.oss2_bucket(unique_bucket("err-dst"), region=DST)
    src.create_bucket()
    dst.create_bucket()
    return World(cluster, src, dst)


def _other_beijing_bucket(w: World) -> str:
    other = w.cluster.oss2_bucket(unique_bucket("err-other"), region=DST)
    other.create_bucket()
    return str(other.bucket_name)


CASES: list[tuple[str, str, Callable[[World], requests.Response]]] = [
    (
        "target is the source itself",
        "InvalidTargetBucket",
        lambda w: w.add_rule(rule(w.src.bucket_name, SRC)),
    ),
    ("target bucket does not exist", "InvalidTargetBucket", lambda w: w.add_rule(rule("no-such-bucket-x1"))),
    (
        "target lives in another region",
        "InvalidTargetLocation",
        lambda w: w.add_rule(rule(w.dst.bucket_name, SRC)),
    ),
    (
        "unknown location",
        "BadReplicationLocation",
        lambda w: w.add_rule(rule(w.dst.bucket_name, "oss-mars-1")),
    ),
    (
        "two rules in one request",
        "TooManyReplicationRules",
        lambda w: w.add_rule(rule(w.dst.bucket_name) + rule(_other_beijing_bucket(w))),
    ),
    ("no destination", "MissingArgument", lambda w: w.add_rule("<Rule><Action>ALL</Action></Rule>")),
    (
        "empty transfer type",
        "MissingArgument",
        lambda w: w.add_rule(
            rule(w.dst.bucket_name).replace("</Location>", "</Location><TransferType></TransferType>")
        ),
    ),
    (
        "unknown action",
        "InvalidArgument",
        lambda w: w.add_rule(rule(w.dst.bucket_name, extra="<Action>COPY</Action>")),
    ),
    (
        "unknown transfer type",
        "InvalidArgument",
        lambda w: w.add_rule(rule(w.dst.bucket_name, transfer="fast")),
    ),
    (
        "oss_acc within a region",
        "InvalidArgument",
        lambda w: w.add_rule(rule(_srr_bucket(w), SRC, transfer="oss_acc")),
    ),
    (
        "RTC for a same-region rule",
        "ReplicationLocationNotSupportRtc",
        lambda w: w.add_rule(rule(_srr_bucket(w), SRC, extra="<RTC><Status>enabled</Status></RTC>")),
    ),
    ("no rules yet", "NoSuchReplicationConfiguration", lambda w: w.send("GET", {"replication": ""})),
    (
        "progress of an unknown rule",
        "NoSuchReplicationRule",
        lambda w: w.send("GET", {"replicationProgress": "", "rule-id": "nope"}),
    ),
]


def _srr_bucket(w: World) -> str:
    same = w.cluster.oss2_bucket(unique_bucket("err-srr"), region=SRC)
    same.create_bucket()
    return str(same.bucket_name)


def _assert_error(response: requests.Response, code: str) -> None:
    assert response.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert (response.status_code, root.findtext("Code")) == (
        400 if code.startswith(("Invalid", "Bad", "Too", "Missing", "Bucket", "Replication")) else 404,
        code,
    ), response.text
    assert root.findtext("RequestId") == response.headers["x-oss-request-id"]


@pytest.mark.parametrize(("what", "code", "request_"), CASES, ids=[c[0] for c in CASES])
def test_error_code(
    world: World, what: str, code: str, request_: Callable[[World], requests.Response]
) -> None:
    _assert_error(request_(world), code)


def test_second_rule_to_the_same_destination(world: World) -> None:
    assert world.add_rule(rule(world.dst.bucket_name)).status_code == 200
    _assert_error(world.add_rule(rule(world.dst.bucket_name)), "BucketReplicationAlreadyExist")


def test_versioning_must_match_and_is_locked_while_rules_exist(world: World) -> None:
    world.src.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    _assert_error(world.add_rule(rule(world.dst.bucket_name)), "InvalidArgument")
    world.dst.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    assert world.add_rule(rule(world.dst.bucket_name)).status_code == 200
    for bucket in (world.src, world.dst):  # the source and the destination are both locked
        with pytest.raises(oss2.exceptions.OssError) as error:
            bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig("Suspended"))
        assert (error.value.status, error.value.code, error.value.ec) == (
            400,
            "InvalidArgument",
            "0012-00000005",
        )


def test_too_many_outgoing_rules(world: World) -> None:
    for _ in range(100):
        assert world.add_rule(rule(_other_beijing_bucket(world))).status_code == 200
    _assert_error(world.add_rule(rule(world.dst.bucket_name)), "TooManyOutgoingReplication")


def test_too_many_incoming_rules(world: World) -> None:
    for _ in range(100):
        source = world.cluster.oss2_bucket(unique_bucket("err-in"), region=SRC)
        source.create_bucket()
        assert world.add_rule(rule(world.dst.bucket_name), bucket=source.bucket_name).status_code == 200
    _assert_error(world.add_rule(rule(world.dst.bucket_name)), "TooManyIncomingReplication")


def test_rtc_needs_a_cross_region_rule(world: World) -> None:
    srr = _srr_bucket(world)
    response = world.add_rule(rule(srr, SRC, extra="<ID>same</ID>"))
    assert response.status_code == 200
    body = b"<ReplicationRule><ID>same</ID><RTC><Status>enabled</Status></RTC></ReplicationRule>"
    _assert_error(world.send("PUT", {"rtc": ""}, body), "ReplicationLocationNotSupportRtc")
