"""Validation of replication rules: every PutBucketReplication error code, its order, and the
normalisation OSS applies (defaults, dropped encryption fields)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
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
    rule_matches,
    validate_new_rule,
    validate_rtc_change,
)

HZ = "oss-cn-hangzhou"
BJ = "oss-cn-beijing"
AP = "oss-ap-south-1"
US = "oss-us-west-1"  # known, but hangzhou has no route to it
LONELY = "oss-cn-lonely"  # known, with no outgoing route at all

CATALOG = RegionCatalog(
    regions=(HZ, BJ, AP, US, LONELY),
    rtc_regions=frozenset({BJ}),
    routes=(
        Route(HZ, BJ, (TransferType.OSS_ACC,)),
        Route(HZ, AP, (TransferType.OSS_ACC,)),
        Route(BJ, HZ),
    ),
)
OWNER = "owner-1"
GOOD = RuleRequest(dest_bucket="dst", dest_location=BJ)


def validate(req: RuleRequest, **overrides: Any) -> ReplicationRule:
    """validate_new_rule with facts under which ``GOOD`` passes; override one to break it."""
    kwargs: dict[str, Any] = {
        "source_bucket": "src",
        "source_region": HZ,
        "source_owner_id": OWNER,
        "source_versioning": None,
        "catalog": CATALOG,
        "target": TargetBucketFacts(exists=True, region=req.dest_location, owner_id=OWNER),
        "existing_outgoing": (),
        "incoming_count_for_target": 0,
        "role_allows_target": False,
        "new_rule_id": lambda: "generated-id",
    }
    kwargs.update(overrides)
    return validate_new_rule(req, **kwargs)


def live_rules(count: int, status: RuleStatus = RuleStatus.DOING) -> tuple[ReplicationRule, ...]:
    return tuple(
        ReplicationRule(rule_id=f"r{i}", dest_bucket=f"other{i}", dest_location=BJ, status=status)
        for i in range(count)
    )


def code_of(req: RuleRequest, **overrides: Any) -> str:
    with pytest.raises(OssError) as caught:
        validate(req, **overrides)
    return caught.value.code


# --- every code and the input that triggers it -------------------------------------------------

ERROR_CASES: list[tuple[str, RuleRequest, dict[str, Any], str]] = [
    ("no destination bucket", RuleRequest(dest_location=BJ), {}, "MissingArgument"),
    ("empty destination bucket", replace(GOOD, dest_bucket=""), {}, "MissingArgument"),
    ("no location", RuleRequest(dest_bucket="dst"), {}, "MissingArgument"),
    ("empty TransferType element", replace(GOOD, transfer_type=""), {}, "MissingArgument"),
    ("unknown action", replace(GOOD, action="COPY"), {}, "InvalidArgument"),
    ("empty action in list", replace(GOOD, action="ALL,"), {}, "InvalidArgument"),
    ("empty Action element", replace(GOOD, action=""), {}, "InvalidArgument"),
    ("unknown transfer type", replace(GOOD, transfer_type="fast"), {}, "InvalidArgument"),
    ("bad historical value", replace(GOOD, historical="open"), {}, "InvalidArgument"),
    ("bad RTC value", replace(GOOD, rtc_status="on"), {}, "InvalidArgument"),
    ("SSE status in lower case", replace(GOOD, sse_kms_status="enabled"), {}, "InvalidArgument"),
    ("eleven prefixes", replace(GOOD, prefixes=tuple(f"p{i}/" for i in range(11))), {}, "InvalidArgument"),
    ("prefix of 1024 bytes", replace(GOOD, prefixes=("é" * 512,)), {}, "InvalidArgument"),
    ("overlapping prefixes", replace(GOOD, prefixes=("source", "source/video")), {}, "InvalidArgument"),
    ("duplicate prefixes", replace(GOOD, prefixes=("a/", "a/")), {}, "InvalidArgument"),
    ("rule ID too long", replace(GOOD, rule_id="x" * 256), {}, "InvalidArgument"),
    ("unknown location", replace(GOOD, dest_location="oss-mars-1"), {}, "BadReplicationLocation"),
    ("same bucket, same region", RuleRequest(dest_bucket="src", dest_location=HZ), {}, "InvalidTargetBucket"),
    ("source region without routes", GOOD, {"source_region": LONELY}, "NoReplicationLocation"),
    ("region not reachable", replace(GOOD, dest_location=US), {}, "BadReplicationLocation"),
    (
        "oss_acc for SRR",
        RuleRequest(dest_bucket="dst", dest_location=HZ, transfer_type="oss_acc"),
        {},
        "InvalidArgument",
    ),
    (
        "oss_acc on a route without it",
        RuleRequest(dest_bucket="dst", dest_location=HZ, transfer_type="oss_acc"),
        {"source_region": BJ},
        "InvalidArgument",
    ),
    (
        "RTC for SRR",
        RuleRequest(dest_bucket="dst", dest_location=HZ, rtc_status="enabled"),
        {},
        "ReplicationLocationNotSupportRtc",
    ),
    (
        "RTC towards a region without it",
        RuleRequest(dest_bucket="dst", dest_location=AP, rtc_status="enabled"),
        {},
        "ReplicationLocationNotSupportRtc",
    ),
    ("target missing", GOOD, {"target": TargetBucketFacts(exists=False)}, "InvalidTargetBucket"),
    (
        "target in another region",
        GOOD,
        {"target": TargetBucketFacts(exists=True, region=AP, owner_id=OWNER)},
        "InvalidTargetLocation",
    ),
    (
        "foreign target, no role",
        GOOD,
        {"target": TargetBucketFacts(exists=True, region=BJ, owner_id="owner-2"), "role_allows_target": True},
        "InvalidTargetBucket",
    ),
    (
        "foreign target, role not allowed",
        replace(GOOD, sync_role="role"),
        {"target": TargetBucketFacts(exists=True, region=BJ, owner_id="owner-2")},
        "InvalidTargetBucket",
    ),
    (
        "target owner unknown",
        GOOD,
        {"target": TargetBucketFacts(exists=True, region=BJ, owner_id=None)},
        "InvalidTargetBucket",
    ),
    (
        "source versioned, target not",
        GOOD,
        {"source_versioning": "Enabled"},
        "InvalidArgument",
    ),
    (
        "target versioned, source suspended",
        GOOD,
        {
            "source_versioning": "Suspended",
            "target": TargetBucketFacts(exists=True, region=BJ, versioning="Enabled", owner_id=OWNER),
        },
        "InvalidArgument",
    ),
    (
        "live rule to the same target",
        GOOD,
        {"existing_outgoing": (ReplicationRule(rule_id="old", dest_bucket="dst", dest_location=BJ),)},
        "BucketReplicationAlreadyExist",
    ),
    (
        "rule ID taken, even by a closing rule",
        replace(GOOD, rule_id="r0"),
        {"existing_outgoing": live_rules(1, RuleStatus.CLOSING)},
        "BucketReplicationAlreadyExist",
    ),
    ("100 outgoing rules", GOOD, {"existing_outgoing": live_rules(100)}, "TooManyOutgoingReplication"),
    ("100 incoming rules", GOOD, {"incoming_count_for_target": 100}, "TooManyIncomingReplication"),
]


@pytest.mark.parametrize(
    ("req", "overrides", "expected"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_error_code(req: RuleRequest, overrides: dict[str, Any], expected: str) -> None:
    assert code_of(req, **overrides) == expected


def test_the_table_covers_every_code_of_the_seed() -> None:
    seed_codes = {
        "InvalidTargetBucket",
        "InvalidTargetLocation",
        "BucketReplicationAlreadyExist",
        "BadReplicationLocation",
        "NoReplicationLocation",
        "TooManyIncomingReplication",
        "TooManyOutgoingReplication",
        "MissingArgument",
        "InvalidArgument",
        "ReplicationLocationNotSupportRtc",
    }  # TooManyReplicationRules is a parsing error: see test_replication_xml.py
    assert {case[3] for case in ERROR_CASES} == seed_codes


def test_sse_kms_enabled_with_a_role_but_no_key_is_accepted() -> None:
    # The v2 seed sample sends exactly this and must run unchanged: the replica then gets the
    # destination's default KMS key.
    rule = validate(replace(GOOD, sync_role="role", sse_kms_status="Enabled"))
    assert (rule.sync_role, rule.sse_kms_status, rule.replica_kms_key_id) == ("role", "Enabled", None)


def test_checks_run_in_the_documented_order() -> None:
    """Start with a request that breaks every check; fixing one fault reveals the next."""
    req = RuleRequest(
        dest_bucket=None, dest_location="oss-mars-1", action="COPY", rtc_status="enabled", rule_id="r0"
    )
    facts: dict[str, Any] = {
        "target": TargetBucketFacts(exists=False),
        "source_versioning": "Enabled",
        "existing_outgoing": live_rules(100),
        "incoming_count_for_target": 100,
    }
    # Each step: the code expected now, then the fix (request fields, or facts) that clears it.
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("MissingArgument", {"dest_bucket": "src"}, {}),
        ("InvalidArgument", {"action": "PUT"}, {}),
        ("BadReplicationLocation", {"dest_location": HZ}, {}),
        ("InvalidTargetBucket", {"dest_bucket": "dst"}, {}),
        ("ReplicationLocationNotSupportRtc", {"dest_location": BJ}, {}),
        ("InvalidTargetBucket", {}, {"target": TargetBucketFacts(exists=True, region=AP)}),
        ("InvalidTargetLocation", {}, {"target": TargetBucketFacts(exists=True, region=BJ)}),
        ("InvalidTargetBucket", {}, {"target": TargetBucketFacts(exists=True, region=BJ, owner_id=OWNER)}),
        ("InvalidArgument", {}, {"source_versioning": None}),
        ("BucketReplicationAlreadyExist", {"rule_id": None}, {}),
        ("TooManyOutgoingReplication", {}, {"existing_outgoing": ()}),
        ("TooManyIncomingReplication", {}, {"incoming_count_for_target": 99}),
    ]
    current: dict[str, Any] = {"req": req, **facts}
    for expected, req_fix, fact_fix in steps:
        with pytest.raises(OssError) as caught:
            validate(**current)
        assert caught.value.code == expected, f"expected {expected} before {req_fix or fact_fix}"
        current.update(fact_fix, req=replace(current["req"], **req_fix))
    assert validate(**current).dest_bucket == "dst"


def test_source_region_without_routes_may_still_replicate_within_itself() -> None:
    rule = validate(RuleRequest(dest_bucket="dst", dest_location=LONELY), source_region=LONELY)
    assert rule.transfer_type is TransferType.INTERNAL


# --- normalisation --------------------------------------------------------------------------


def test_the_oss2_minimal_sample_gets_every_default() -> None:
    rule = validate(GOOD)
    assert rule == ReplicationRule(
        rule_id="generated-id",
        dest_bucket="dst",
        dest_location=BJ,
        prefixes=(),
        actions=("ALL",),
        transfer_type=TransferType.INTERNAL,
        historical_enabled=True,
        status=RuleStatus.STARTING,
    )
    assert rule.replicates_deletes
    assert not rule.rtc_enabled


def test_a_full_rule_keeps_every_field() -> None:
    req = RuleRequest(
        rule_id="test-id",
        prefixes=("prefix-1", "prefix-2"),
        action="ALL",
        dest_bucket="dst",
        dest_location=BJ,
        transfer_type="oss_acc",
        historical="disabled",
        sync_role="role",
        sse_kms_status="Enabled",
        replica_kms_key_id="kms-key",
        rtc_status="enabled",
    )
    rule = validate(req)
    assert request_of(rule) == req
    assert rule.sse_kms_status is SseKmsStatus.ENABLED
    assert rule.rtc_status is Toggle.ENABLED
    assert not rule.historical_enabled


def test_without_a_sync_role_the_encryption_fields_are_dropped() -> None:
    rule = validate(replace(GOOD, sse_kms_status="Enabled", replica_kms_key_id="kms-key"))
    assert (rule.sync_role, rule.sse_kms_status, rule.replica_kms_key_id) == (None, None, None)


def test_with_sse_kms_disabled_the_key_is_dropped() -> None:
    rule = validate(replace(GOOD, sync_role="role", sse_kms_status="Disabled", replica_kms_key_id="k"))
    assert rule.sse_kms_status is SseKmsStatus.DISABLED
    assert rule.replica_kms_key_id is None
    assert rule.sync_role == "role"


@pytest.mark.parametrize(
    ("action", "actions", "deletes"),
    [
        ("PUT", ("PUT",), False),
        ("ALL,PUT", ("ALL", "PUT"), True),
        ("PUT,DELETE,ABORT", ("PUT", "DELETE", "ABORT"), True),
        ("PUT,ABORT", ("PUT", "ABORT"), False),
    ],
)
def test_actions_are_echoed_as_given(action: str, actions: tuple[str, ...], deletes: bool) -> None:
    rule = validate(replace(GOOD, action=action))
    assert rule.actions == actions
    assert rule.replicates_deletes is deletes


def test_an_empty_id_is_generated() -> None:
    assert validate(replace(GOOD, rule_id="")).rule_id == "generated-id"


def test_closing_rules_neither_block_the_target_nor_count_against_the_quota() -> None:
    closing = ReplicationRule(rule_id="old", dest_bucket="dst", dest_location=BJ, status=RuleStatus.CLOSING)
    existing = (closing, *live_rules(99), *live_rules(5, RuleStatus.CLOSING)[1:])
    assert validate(GOOD, existing_outgoing=existing).rule_id == "generated-id"


def test_same_bucket_name_in_another_region_is_a_different_bucket() -> None:
    assert validate(RuleRequest(dest_bucket="src", dest_location=BJ)).dest_bucket == "src"


def test_a_foreign_target_is_allowed_through_a_permitted_role() -> None:
    rule = validate(
        replace(GOOD, sync_role="role"),
        target=TargetBucketFacts(exists=True, region=BJ, owner_id="owner-2"),
        role_allows_target=True,
    )
    assert rule.sync_role == "role"


def test_an_unknown_target_region_skips_the_location_comparison() -> None:
    assert validate(GOOD, target=TargetBucketFacts(exists=True, owner_id=OWNER)).dest_location == BJ


@pytest.mark.parametrize(
    ("source", "target"),
    [("Enabled", "Enabled"), (None, None), ("Suspended", None), (None, "Suspended")],
)
def test_matching_versioning_is_accepted(source: str | None, target: str | None) -> None:
    facts = TargetBucketFacts(exists=True, region=BJ, versioning=target, owner_id=OWNER)
    assert validate(GOOD, source_versioning=source, target=facts).status is RuleStatus.STARTING


def test_rtc_disabled_is_accepted_for_srr() -> None:
    rule = validate(RuleRequest(dest_bucket="dst", dest_location=HZ, rtc_status="disabled"))
    assert rule.rtc_status is Toggle.DISABLED


# --- PutBucketRTC ---------------------------------------------------------------------------

CRR_RULE = ReplicationRule(rule_id="r", dest_bucket="dst", dest_location=BJ)


def test_rtc_can_be_switched_on_and_off_for_a_capable_crr_rule() -> None:
    on = validate_rtc_change(CRR_RULE, "enabled", CATALOG, HZ)
    assert on.rtc_enabled
    off = validate_rtc_change(on, "disabled", CATALOG, HZ)
    assert off.rtc_status is Toggle.DISABLED
    assert replace(off, rtc_status=None) == CRR_RULE


@pytest.mark.parametrize(
    ("rule", "status", "expected"),
    [
        (CRR_RULE, "on", "InvalidArgument"),
        (CRR_RULE, "Enabled", "InvalidArgument"),
        (CRR_RULE, "", "InvalidArgument"),
        (replace(CRR_RULE, dest_location=AP), "enabled", "ReplicationLocationNotSupportRtc"),
        (replace(CRR_RULE, dest_location=HZ), "enabled", "ReplicationLocationNotSupportRtc"),
    ],
)
def test_rtc_change_errors(rule: ReplicationRule, status: str, expected: str) -> None:
    with pytest.raises(OssError) as caught:
        validate_rtc_change(rule, status, CATALOG, HZ)
    assert caught.value.code == expected


def test_rtc_can_always_be_switched_off() -> None:
    srr = replace(CRR_RULE, dest_location=HZ)
    assert validate_rtc_change(srr, "disabled", CATALOG, HZ).rtc_status is Toggle.DISABLED


# --- the region catalog ---------------------------------------------------------------------


def test_catalog_lookups() -> None:
    assert CATALOG.destinations_from(HZ) == (HZ, BJ, AP)
    assert CATALOG.destinations_from("oss-mars-1") == ()
    assert CATALOG.transfer_types(HZ, BJ) == (TransferType.INTERNAL, TransferType.OSS_ACC)
    assert CATALOG.transfer_types(BJ, HZ) == (TransferType.INTERNAL,)
    assert CATALOG.transfer_types(HZ, HZ) == (TransferType.INTERNAL,)
    assert CATALOG.transfer_types(HZ, US) == ()
    assert [r.destination for r in CATALOG.routes_from(HZ)] == [BJ, AP]
    assert CATALOG.rtc_capable(BJ) and not CATALOG.rtc_capable(AP)


@pytest.mark.parametrize(
    "bad",
    [
        {"regions": (HZ,), "routes": (Route(HZ, BJ),)},
        {"regions": (HZ,), "routes": (Route(HZ, HZ),)},
        {"regions": (HZ,), "rtc_regions": frozenset({BJ})},
    ],
)
def test_catalog_rejects_inconsistent_config(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RegionCatalog(**bad)


def test_catalog_accepts_plain_strings_from_a_config_file() -> None:
    catalog = RegionCatalog(regions=(HZ, BJ), routes=(Route(HZ, BJ, ("oss_acc",)),))  # type: ignore[arg-type]
    assert catalog.transfer_types(HZ, BJ) == (TransferType.INTERNAL, TransferType.OSS_ACC)


# --- prefix filter --------------------------------------------------------------------------


def test_rule_matches_by_prefix() -> None:
    rule = replace(CRR_RULE, prefixes=("logs/", "video"))
    assert rule_matches(rule, "logs/a.txt")
    assert rule_matches(rule, "videos/b.mp4")
    assert not rule_matches(rule, "img/logs/c.png")
    assert rule_matches(CRR_RULE, "anything at all")


@given(st.lists(st.text(max_size=5), max_size=4), st.text(max_size=10))
def test_rule_matches_is_any_startswith(prefixes: list[str], key: str) -> None:
    rule = replace(CRR_RULE, prefixes=tuple(prefixes))
    expected = not prefixes or any(key.startswith(p) for p in prefixes)
    assert rule_matches(rule, key) is expected
