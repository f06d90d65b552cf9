"""The replication documents against the real SDKs, offline.

Request bodies are produced by the SDKs' own serializers and parsed by Ferry; response bodies
are produced by Ferry and parsed by the SDKs' own parsers, field by field.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import alibabacloud_oss_v2 as oss  # type: ignore[import-untyped]
import oss2.models  # type: ignore[import-untyped]
import oss2.xml_utils  # type: ignore[import-untyped]
import pytest
from alibabacloud_oss_v2 import serde
from alibabacloud_oss_v2.types import OperationInput, OperationOutput  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from ferry.core.errors import OssError
from ferry.core.replication_rules import (
    RegionCatalog,
    ReplicationRule,
    Route,
    RuleRequest,
    RuleStatus,
    SseKmsStatus,
    TargetBucketFacts,
    Toggle,
    TransferType,
    request_of,
    validate_new_rule,
)
from ferry.protocol.replication_xml import (
    encode_replication_configuration,
    encode_replication_location,
    encode_replication_progress,
    parse_delete_replication,
    parse_put_replication,
    parse_put_rtc,
)

HZ, BJ, AP = "oss-cn-hangzhou", "oss-cn-beijing", "oss-ap-south-1"
CATALOG = RegionCatalog(
    regions=(HZ, BJ, AP),
    rtc_regions=frozenset({BJ}),
    routes=(Route(HZ, BJ), Route(HZ, AP, (TransferType.OSS_ACC,))),
)
FULL_RULE = ReplicationRule(
    rule_id="test-id",
    dest_bucket="dest-bucket",
    dest_location=AP,
    prefixes=("prefix-1", "prefix-2"),
    actions=("PUT", "DELETE", "ABORT"),
    transfer_type=TransferType.OSS_ACC,
    historical_enabled=False,
    sync_role="role-name",
    sse_kms_status=SseKmsStatus.ENABLED,
    replica_kms_key_id="kms-key",
    rtc_status=Toggle.ENABLED,
    status=RuleStatus.DOING,
)
MINIMAL_RULE = ReplicationRule(rule_id="min", dest_bucket="dst", dest_location=BJ)


# --- helpers: drive the SDKs exactly as their clients do ------------------------------------


def oss2_body(config: oss2.models.ReplicationRule) -> bytes:
    body = oss2.xml_utils.to_put_bucket_replication(config)
    assert isinstance(body, bytes)
    return body


def v2_body(request: Any, op_name: str) -> bytes:
    """The body the v2 client sends: serde.serialize_input, as operations/bucket_replication.py."""
    op_input = serde.serialize_input(request, OperationInput(op_name=op_name, method="POST"))
    assert isinstance(op_input.body, bytes)
    return op_input.body


class _Response:
    def __init__(self, content: bytes) -> None:
        self.content = content


def v2_result(result: Any, body: bytes) -> Any:
    """Parse a response body the way the v2 client does (deserialize_output_xmlbody)."""
    output = OperationOutput(status="OK", status_code=200, headers={}, http_response=_Response(body))
    return serde.deserialize_output(result, output, custom_deserializer=[serde.deserialize_output_xmlbody])


def oss2_rules(body: bytes) -> list[Any]:
    result = SimpleNamespace(rule_list=[])
    oss2.xml_utils.parse_get_bucket_replication_result(result, body)
    return list(result.rule_list)


# --- PutBucketReplication requests from the SDKs --------------------------------------------


def test_oss2_full_request() -> None:
    body = oss2_body(
        oss2.models.ReplicationRule(
            rule_id="test-id",
            prefix_list=["prefix-1", "prefix-2"],
            action_list=[oss2.models.ReplicationRule.ALL],
            target_bucket_name="dest-bucket",
            target_bucket_location=AP,
            target_transfer_type="oss_acc",
            is_enable_historical_object_replication=False,
            sync_role_name="role-name",
            replica_kms_keyid="kms-key",
            sse_kms_encrypted_objects_status=oss2.models.ReplicationRule.ENABLED,
        )
    )
    assert parse_put_replication(body) == RuleRequest(
        rule_id="test-id",
        prefixes=("prefix-1", "prefix-2"),
        action="ALL",
        dest_bucket="dest-bucket",
        dest_location=AP,
        transfer_type="oss_acc",
        historical="disabled",
        sync_role="role-name",
        sse_kms_status="Enabled",
        replica_kms_key_id="kms-key",
    )


def test_oss2_minimal_sample_sends_no_transfer_type_and_no_action() -> None:
    body = oss2_body(oss2.models.ReplicationRule(target_bucket_name="dst", target_bucket_location=BJ))
    # oss2 always writes HistoricalObjectReplication, never ID/TransferType/Action when unset.
    assert parse_put_replication(body) == RuleRequest(
        dest_bucket="dst", dest_location=BJ, historical="enabled"
    )


def test_oss2_multi_action_is_one_comma_list() -> None:
    actions = [
        oss2.models.ReplicationRule.PUT,
        oss2.models.ReplicationRule.DELETE,
        oss2.models.ReplicationRule.ABORT,
    ]
    body = oss2_body(
        oss2.models.ReplicationRule(target_bucket_name="d", target_bucket_location=BJ, action_list=actions)
    )
    assert parse_put_replication(body).action == "PUT,DELETE,ABORT"


def test_v2_sample_request() -> None:
    """The v2 sample of the seed, including the server-owned Status it sends."""
    request = oss.PutBucketReplicationRequest(
        bucket="src",
        replication_configuration=oss.ReplicationConfiguration(
            rules=[
                oss.ReplicationRule(
                    source_selection_criteria=oss.ReplicationSourceSelectionCriteria(
                        sse_kms_encrypted_objects=oss.SseKmsEncryptedObjects(status=oss.StatusType.ENABLED),
                    ),
                    rtc=oss.ReplicationTimeControl(status="disabled"),
                    destination=oss.ReplicationDestination(
                        bucket="dst", location=BJ, transfer_type=oss.TransferType.INTERNAL
                    ),
                    historical_object_replication=oss.HistoricalObjectReplicationType.DISABLED,
                    sync_role="role",
                    status="Disabled",
                    prefix_set=oss.ReplicationPrefixSet(prefixs=["aaa/", "bbb/"]),
                    action="ALL",
                )
            ],
        ),
    )
    assert parse_put_replication(v2_body(request, "PutBucketReplication")) == RuleRequest(
        prefixes=("aaa/", "bbb/"),
        action="ALL",
        dest_bucket="dst",
        dest_location=BJ,
        transfer_type="internal",
        historical="disabled",
        sync_role="role",
        sse_kms_status="Enabled",
        rtc_status="disabled",
    )


def test_documentation_sample_request() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<ReplicationConfiguration><Rule>
  <RTC><Status>enabled</Status></RTC>
  <PrefixSet><Prefix>source1</Prefix><Prefix>video</Prefix></PrefixSet>
  <Action>PUT</Action>
  <Destination><Bucket>destbucket</Bucket><Location>oss-cn-beijing</Location>
    <TransferType>oss_acc</TransferType></Destination>
  <HistoricalObjectReplication>enabled</HistoricalObjectReplication>
  <SyncRole>aliyunramrole</SyncRole>
  <SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects>
  </SourceSelectionCriteria>
  <EncryptionConfiguration><ReplicaKmsKeyID>c4d49f85-ee30-426b-a5ed-95e9139d****</ReplicaKmsKeyID>
  </EncryptionConfiguration>
</Rule></ReplicationConfiguration>"""
    assert parse_put_replication(body) == RuleRequest(
        prefixes=("source1", "video"),
        action="PUT",
        dest_bucket="destbucket",
        dest_location=BJ,
        transfer_type="oss_acc",
        historical="enabled",
        sync_role="aliyunramrole",
        sse_kms_status="Enabled",
        replica_kms_key_id="c4d49f85-ee30-426b-a5ed-95e9139d****",
        rtc_status="enabled",
    )


# --- DeleteBucketReplication and PutBucketRTC requests --------------------------------------


def test_oss2_delete_request() -> None:
    body = oss2.xml_utils.to_delete_bucket_replication("test-id")
    assert parse_delete_replication(body) == ["test-id"]


def test_v2_delete_request_with_several_ids() -> None:
    request = oss.DeleteBucketReplicationRequest(
        bucket="src", replication_rules=oss.ReplicationRules(ids=["a", "b"])
    )
    assert parse_delete_replication(v2_body(request, "DeleteBucketReplication")) == ["a", "b"]


def test_v2_put_rtc_request() -> None:
    request = oss.PutBucketRtcRequest(
        bucket="src",
        rtc_configuration=oss.RtcConfiguration(rtc=oss.ReplicationTimeControl(status="enabled"), id="r1"),
    )
    assert parse_put_rtc(v2_body(request, "PutBucketRtc")) == ("r1", "enabled")


# --- request errors -------------------------------------------------------------------------

RULE = b"<Rule><Destination><Bucket>d</Bucket><Location>l</Location></Destination></Rule>"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            b"<ReplicationConfiguration>" + RULE + RULE + b"</ReplicationConfiguration>",
            "TooManyReplicationRules",
        ),
        (b"<ReplicationConfiguration></ReplicationConfiguration>", "MalformedXML"),
        (RULE, "MalformedXML"),
        (b"<ReplicationConfiguration><Rule>", "MalformedXML"),
        (b"", "MalformedXML"),
        (
            b"<ReplicationConfiguration><Rule><ID>a</ID><ID>b</ID></Rule></ReplicationConfiguration>",
            "MalformedXML",
        ),
        (
            b"<ReplicationConfiguration><Rule><Destination><Bucket>a</Bucket><Bucket>b</Bucket>"
            b"</Destination></Rule></ReplicationConfiguration>",
            "MalformedXML",
        ),
        (b'<?xml version="1.0" encoding="no-such"?><ReplicationConfiguration/>', "MalformedXML"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><ReplicationConfiguration/>', "MalformedXML"),
    ],
)
def test_put_replication_body_errors(body: bytes, code: str) -> None:
    with pytest.raises(OssError) as caught:
        parse_put_replication(body)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<ReplicationRules></ReplicationRules>", "MissingArgument"),
        (b"<ReplicationRules><ID></ID></ReplicationRules>", "MissingArgument"),
        (b"<ReplicationRule><ID>a</ID></ReplicationRule>", "MalformedXML"),
    ],
)
def test_delete_body_errors(body: bytes, code: str) -> None:
    with pytest.raises(OssError) as caught:
        parse_delete_replication(body)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<ReplicationRule><RTC><Status>enabled</Status></RTC></ReplicationRule>", "MissingArgument"),
        (b"<ReplicationRule><ID>a</ID></ReplicationRule>", "MissingArgument"),
        (b"<ReplicationRule><ID>a</ID><RTC></RTC></ReplicationRule>", "MissingArgument"),
        (b"<RtcConfiguration><ID>a</ID></RtcConfiguration>", "MalformedXML"),
    ],
)
def test_put_rtc_body_errors(body: bytes, code: str) -> None:
    with pytest.raises(OssError) as caught:
        parse_put_rtc(body)
    assert caught.value.code == code


# --- GetBucketReplication responses into the SDK parsers ------------------------------------


def test_oss2_reads_every_field_back() -> None:
    (rule,) = oss2_rules(encode_replication_configuration([FULL_RULE]))
    assert rule.rule_id == "test-id"
    assert rule.target_bucket_name == "dest-bucket"
    assert rule.target_bucket_location == AP
    assert rule.target_transfer_type == "oss_acc"
    assert rule.prefix_list == ["prefix-1", "prefix-2"]
    assert rule.action_list == ["PUT", "DELETE", "ABORT"]
    assert rule.is_enable_historical_object_replication is False
    assert rule.status == "doing"
    assert rule.sync_role_name == "role-name"
    assert rule.replica_kms_keyid == "kms-key"
    assert rule.sse_kms_encrypted_objects_status == "Enabled"


def test_oss2_reads_a_minimal_rule() -> None:
    (rule,) = oss2_rules(encode_replication_configuration([MINIMAL_RULE]))
    assert rule.prefix_list == []
    assert rule.action_list == ["ALL"]
    assert rule.is_enable_historical_object_replication is True
    assert rule.status == "starting"
    assert rule.target_transfer_type == "internal"
    assert (rule.sync_role_name, rule.replica_kms_keyid, rule.sse_kms_encrypted_objects_status) == (
        None,
        None,
        None,
    )


def test_v2_reads_every_field_back() -> None:
    result = v2_result(oss.GetBucketReplicationResult(), encode_replication_configuration([FULL_RULE]))
    (rule,) = result.replication_configuration.rules
    assert rule.id == "test-id"
    assert rule.destination.bucket == "dest-bucket"
    assert rule.destination.location == AP
    assert rule.destination.transfer_type == "oss_acc"
    assert rule.prefix_set.prefixs == ["prefix-1", "prefix-2"]
    assert rule.action == "PUT,DELETE,ABORT"
    assert rule.historical_object_replication == "disabled"
    assert rule.status == "doing"
    assert rule.sync_role == "role-name"
    assert rule.encryption_configuration.replica_kms_key_id == "kms-key"
    assert rule.source_selection_criteria.sse_kms_encrypted_objects.status == "Enabled"
    assert rule.rtc.status == "enabled"


def test_both_sdks_read_several_rules_and_none() -> None:
    body = encode_replication_configuration([FULL_RULE, MINIMAL_RULE])
    assert [r.rule_id for r in oss2_rules(body)] == ["test-id", "min"]
    result = v2_result(oss.GetBucketReplicationResult(), body)
    assert [r.id for r in result.replication_configuration.rules] == ["test-id", "min"]
    assert oss2_rules(encode_replication_configuration([])) == []


# --- GetBucketReplicationLocation -----------------------------------------------------------


def test_oss2_reads_locations_and_transfer_types() -> None:
    result = SimpleNamespace(location_list=[], location_transfer_type_list=[])
    oss2.xml_utils.parse_get_bucket_replication_location_result(
        result, encode_replication_location(CATALOG, HZ)
    )
    assert result.location_list == [HZ, BJ, AP]
    pairs = [(t.location, t.transfer_type) for t in result.location_transfer_type_list]
    # oss2 keeps only the first Type of each location: the accelerated link is listed first.
    assert pairs == [(HZ, "internal"), (BJ, "internal"), (AP, "oss_acc")]


def test_v2_reads_locations_transfer_types_and_rtc() -> None:
    result = v2_result(oss.GetBucketReplicationLocationResult(), encode_replication_location(CATALOG, HZ))
    location = result.replication_location
    assert location.locations == [HZ, BJ, AP]
    constraint = location.location_transfer_type_constraint.location_transfer_types
    assert [(c.location, c.transfer_types.types) for c in constraint] == [
        (HZ, ["internal"]),
        (BJ, ["internal"]),
        (AP, ["oss_acc", "internal"]),
    ]
    assert location.locationrtc_constraint.locations == [BJ]


def test_a_region_without_routes_still_lists_itself() -> None:
    lonely = RegionCatalog(regions=(HZ,))
    result = SimpleNamespace(location_list=[], location_transfer_type_list=[])
    oss2.xml_utils.parse_get_bucket_replication_location_result(
        result, encode_replication_location(lonely, HZ)
    )
    assert result.location_list == [HZ]
    assert len(result.location_transfer_type_list) == 1


# --- GetBucketReplicationProgress -----------------------------------------------------------


def oss2_progress(body: bytes) -> Any:
    result = SimpleNamespace(progress=None)
    oss2.xml_utils.parse_get_bucket_replication_progress_result(result, body)
    return result.progress


def test_oss2_reads_progress() -> None:
    moment = datetime(2015, 9, 24, 23, 39, 18, tzinfo=timezone(timedelta(hours=8)))
    progress = oss2_progress(encode_replication_progress(FULL_RULE, 0.85, moment))
    assert progress.rule_id == "test-id"
    assert progress.target_bucket_name == "dest-bucket"
    assert progress.target_bucket_location == AP
    assert progress.target_transfer_type == "oss_acc"
    assert progress.prefix_list == ["prefix-1", "prefix-2"]
    assert progress.action_list == ["PUT", "DELETE", "ABORT"]
    assert progress.is_enable_historical_object_replication is False
    assert progress.status == "doing"
    assert progress.historical_object_progress == 0.85
    assert progress.new_object_progress == "Thu, 24 Sep 2015 15:39:18 GMT"


def test_a_starting_rule_has_no_new_object_and_zero_history() -> None:
    """What oss2's test_replication_with_full_parameter asserts right after creation."""
    progress = oss2_progress(
        encode_replication_progress(replace(FULL_RULE, status=RuleStatus.STARTING), 0, None)
    )
    assert progress.historical_object_progress == 0
    assert progress.new_object_progress is None
    assert progress.status == "starting"


def test_v2_reads_progress() -> None:
    moment = datetime(2015, 9, 24, 15, 39, 18, tzinfo=UTC)
    result = v2_result(
        oss.GetBucketReplicationProgressResult(), encode_replication_progress(MINIMAL_RULE, 1.5, moment)
    )
    (rule,) = result.replication_progress.rules
    assert rule.id == "min"
    assert rule.destination.bucket == "dst"
    assert rule.destination.location == BJ
    assert rule.destination.transfer_type == "internal"
    assert rule.action == "ALL"
    assert rule.status == "starting"
    assert rule.historical_object_replication == "enabled"
    assert rule.prefix_set is None
    assert rule.progress.historical_object == "1.00"  # clamped
    assert rule.progress.new_object == "Thu, 24 Sep 2015 15:39:18 GMT"


@pytest.mark.parametrize(
    ("fraction", "moment"),
    [(float("nan"), None), (0.5, datetime(2020, 1, 1))],  # the naive datetime is the error under test
)
def test_progress_rejects_programming_errors(fraction: float, moment: datetime | None) -> None:
    with pytest.raises(ValueError):
        encode_replication_progress(MINIMAL_RULE, fraction, moment)


# --- end to end through both SDKs -----------------------------------------------------------


def test_oss2_full_parameter_flow() -> None:
    """oss2's test_replication_with_full_parameter, minus the network."""
    body = oss2_body(
        oss2.models.ReplicationRule(
            rule_id="test-id",
            prefix_list=["prefix-1", "prefix-2"],
            action_list=["ALL"],
            target_bucket_name="dest-bucket",
            target_bucket_location=AP,
            target_transfer_type="oss_acc",
            is_enable_historical_object_replication=False,
            sync_role_name="role-name",
            replica_kms_keyid="kms-key",
            sse_kms_encrypted_objects_status="Enabled",
        )
    )
    rule = validate_new_rule(
        parse_put_replication(body),
        source_bucket="src",
        source_region=HZ,
        source_owner_id="me",
        source_versioning=None,
        catalog=CATALOG,
        target=TargetBucketFacts(exists=True, region=AP, owner_id="me"),
        existing_outgoing=(),
        incoming_count_for_target=0,
        role_allows_target=False,
        new_rule_id=lambda: "unused",
    )
    (back,) = oss2_rules(encode_replication_configuration([rule]))
    assert (back.rule_id, back.status, back.target_transfer_type) == ("test-id", "starting", "oss_acc")
    assert back.is_enable_historical_object_replication is False
    assert (back.sync_role_name, back.replica_kms_keyid, back.sse_kms_encrypted_objects_status) == (
        "role-name",
        "kms-key",
        "Enabled",
    )
    closing = oss2_rules(encode_replication_configuration([replace(rule, status=RuleStatus.CLOSING)]))
    assert closing[0].status == "closing"


# --- properties -----------------------------------------------------------------------------

_raw_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=12,
)
_text = _raw_text.map(str.strip)
_non_empty = _text.filter(bool)

rules = st.builds(
    ReplicationRule,
    rule_id=_non_empty,
    dest_bucket=_non_empty,
    dest_location=_non_empty,
    # Prefixes keep their spaces: they are matched against keys verbatim.
    prefixes=st.lists(_raw_text, max_size=10).map(tuple),
    actions=st.lists(st.sampled_from(["ALL", "PUT", "DELETE", "ABORT"]), min_size=1, max_size=4).map(tuple),
    transfer_type=st.sampled_from(TransferType),
    historical_enabled=st.booleans(),
    sync_role=st.none() | _non_empty,
    sse_kms_status=st.none() | st.sampled_from(SseKmsStatus),
    replica_kms_key_id=st.none() | _non_empty,
    rtc_status=st.none() | st.sampled_from(Toggle),
    status=st.sampled_from(RuleStatus),
)


@given(rules)
def test_parse_of_encode_is_the_rule_as_a_request(rule: ReplicationRule) -> None:
    assert parse_put_replication(encode_replication_configuration([rule])) == request_of(rule)


@given(rules, st.randoms(use_true_random=False))
def test_child_order_does_not_matter(rule: ReplicationRule, rnd: Any) -> None:
    root = ET.fromstring(encode_replication_configuration([rule]))
    for parent in [root.find("Rule"), root.find("Rule/Destination"), root.find("Rule/PrefixSet")]:
        if parent is not None:
            kids = list(parent)
            rnd.shuffle(kids)
            parent[:] = kids
    shuffled = ET.tostring(root, encoding="utf-8")
    expected = request_of(rule)
    parsed = parse_put_replication(shuffled)
    # Prefixes are a set on the wire; their own order is not part of the rule's meaning.
    assert replace(parsed, prefixes=()) == replace(expected, prefixes=())
    assert sorted(parsed.prefixes) == sorted(expected.prefixes)


_PARSERS = [parse_put_replication, parse_delete_replication, parse_put_rtc]
_TAGS = ["ReplicationConfiguration", "ReplicationRules", "ReplicationRule", "Rule", "ID", "RTC", "Status"]


@given(st.binary(max_size=300), st.sampled_from(_PARSERS))
def test_parsers_raise_only_oss_errors_on_arbitrary_bytes(body: bytes, parse: Any) -> None:
    with contextlib.suppress(OssError):
        parse(body)


@given(
    st.recursive(
        st.sampled_from(["", "x", "enabled", "&amp;", "\u00e9"]),
        lambda inner: st.tuples(st.sampled_from(_TAGS), st.lists(inner, max_size=3)).map(
            lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"
        ),
        max_leaves=12,
    ),
    st.sampled_from(_PARSERS),
)
def test_parsers_raise_only_oss_errors_on_xml_shaped_input(document: str, parse: Any) -> None:
    with contextlib.suppress(OssError):
        parse(document.encode())
