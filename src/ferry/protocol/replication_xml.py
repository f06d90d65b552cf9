"""The XML documents of the six replication operations.

Requests are read by element name, never by position: oss2, the v2 SDK and ali-oss order a
Rule's children differently.  Responses carry every element either SDK parser reads; oss2's
parsers fail outright when ``Status``, ``HistoricalObjectReplication`` or ``Action`` is missing
from a Rule, so those are always written.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from ferry.core.errors import OssError
from ferry.core.replication_rules import RegionCatalog, ReplicationRule, RuleRequest, Toggle, TransferType
from ferry.protocol import xmlcodec
from ferry.protocol.xmlcodec import element, leaf, serialize, text_of, texts_of

# Children of a Rule that may appear at most once; a second copy is ambiguous, not ignorable.
_SINGLE_RULE_CHILDREN = (
    "ID",
    "PrefixSet",
    "Action",
    "Destination",
    "HistoricalObjectReplication",
    "SyncRole",
    "SourceSelectionCriteria",
    "EncryptionConfiguration",
    "RTC",
)
_SINGLE_DESTINATION_CHILDREN = ("Bucket", "Location", "TransferType")


def _parse(body: bytes, root: str) -> ET.Element:
    # xmlcodec.parse maps ParseError only; an unknown encoding in the XML declaration surfaces
    # as LookupError (and odd input as ValueError), which must still answer MalformedXML.
    try:
        return xmlcodec.parse(body, root)
    except (LookupError, ValueError):
        raise OssError("MalformedXML") from None


def _reject_duplicates(parent: ET.Element, names: Iterable[str]) -> None:
    for name in names:
        if len(parent.findall(name)) > 1:
            raise OssError("MalformedXML", f"{parent.tag} has more than one {name}.")


# --- PutBucketReplication -------------------------------------------------------------------


def parse_put_replication(body: bytes) -> RuleRequest:
    """``POST /?replication&comp=add``: exactly one Rule, returned raw for validation."""
    root = _parse(body, "ReplicationConfiguration")
    rules = root.findall("Rule")
    if not rules:
        raise OssError("MalformedXML", "ReplicationConfiguration must contain a Rule.")
    if len(rules) > 1:
        raise OssError("TooManyReplicationRules")
    return _rule_request(rules[0])


def _rule_request(rule: ET.Element) -> RuleRequest:
    _reject_duplicates(rule, _SINGLE_RULE_CHILDREN)
    destination = rule.find("Destination")
    if destination is not None:
        _reject_duplicates(destination, _SINGLE_DESTINATION_CHILDREN)
    # A Rule's Status is assigned by the server; the v2 sample sends one anyway, so it is ignored.
    return RuleRequest(
        rule_id=text_of(rule, "ID"),
        prefixes=_prefixes(rule.find("PrefixSet")),
        action=text_of(rule, "Action"),
        dest_bucket=text_of(destination, "Bucket"),
        dest_location=text_of(destination, "Location"),
        transfer_type=text_of(destination, "TransferType"),
        historical=text_of(rule, "HistoricalObjectReplication"),
        sync_role=text_of(rule, "SyncRole"),
        sse_kms_status=text_of(rule.find("SourceSelectionCriteria/SseKmsEncryptedObjects"), "Status"),
        replica_kms_key_id=text_of(rule.find("EncryptionConfiguration"), "ReplicaKmsKeyID"),
        rtc_status=text_of(rule.find("RTC"), "Status"),
    )


def _prefixes(prefix_set: ET.Element | None) -> tuple[str, ...]:
    # Read verbatim, unlike texts_of: a key prefix may begin or end with a space, and
    # stripping it would silently widen or change what the rule replicates.
    if prefix_set is None:
        return ()
    return tuple(node.text or "" for node in prefix_set.findall("Prefix"))


# --- GetBucketReplication -------------------------------------------------------------------


def encode_replication_configuration(rules: Sequence[ReplicationRule]) -> bytes:
    """``GET /?replication``: every rule, with every field either SDK reads."""
    return serialize(element("ReplicationConfiguration", *(_rule_element(rule) for rule in rules)))


def _rule_element(rule: ReplicationRule) -> ET.Element:
    return element(
        "Rule",
        *_rule_core(rule),
        leaf("SyncRole", rule.sync_role),
        _sse_criteria(rule),
        _encryption(rule),
        _rtc(rule),
    )


def _rule_core(rule: ReplicationRule) -> list[ET.Element | None]:
    """The children a Rule shares with a ReplicationProgress Rule."""
    return [
        leaf("ID", rule.rule_id),
        _prefix_set(rule.prefixes),
        leaf("Action", ",".join(rule.actions)),
        element(
            "Destination",
            leaf("Bucket", rule.dest_bucket),
            leaf("Location", rule.dest_location),
            leaf("TransferType", rule.transfer_type.value),
        ),
        leaf("Status", rule.status.value),
        leaf("HistoricalObjectReplication", _toggle(rule.historical_enabled)),
    ]


def _prefix_set(prefixes: tuple[str, ...]) -> ET.Element | None:
    # No PrefixSet at all for "every key": oss2 then reports [], v2 None, as OSS does.
    if not prefixes:
        return None
    return xmlcodec.with_children(ET.Element("PrefixSet"), xmlcodec.leaves("Prefix", prefixes))


def _toggle(enabled: bool) -> str:
    return (Toggle.ENABLED if enabled else Toggle.DISABLED).value


def _sse_criteria(rule: ReplicationRule) -> ET.Element | None:
    if rule.sse_kms_status is None:
        return None
    return element(
        "SourceSelectionCriteria",
        element("SseKmsEncryptedObjects", leaf("Status", rule.sse_kms_status.value)),
    )


def _encryption(rule: ReplicationRule) -> ET.Element | None:
    if rule.replica_kms_key_id is None:
        return None
    return element("EncryptionConfiguration", leaf("ReplicaKmsKeyID", rule.replica_kms_key_id))


def _rtc(rule: ReplicationRule) -> ET.Element | None:
    if rule.rtc_status is None:
        return None
    return element("RTC", leaf("Status", rule.rtc_status.value))


# --- DeleteBucketReplication and PutBucketRTC -----------------------------------------------


def parse_delete_replication(body: bytes) -> list[str]:
    """``POST /?replication&comp=delete``: the IDs of the rules to close, at least one."""
    root = _parse(body, "ReplicationRules")
    ids = texts_of(root, "ID")
    if not ids or not all(ids):
        raise OssError("MissingArgument", "ReplicationRules must name at least one non-empty ID.")
    return ids


def parse_put_rtc(body: bytes) -> tuple[str, str]:
    """``PUT /?rtc``: (rule ID, RTC status); the status value is checked by the domain."""
    root = _parse(body, "ReplicationRule")
    _reject_duplicates(root, ("ID", "RTC"))
    rule_id = text_of(root, "ID")
    if not rule_id:
        raise OssError("MissingArgument", "ID is required.")
    status = text_of(root.find("RTC"), "Status")
    if not status:
        raise OssError("MissingArgument", "RTC/Status is required.")
    return rule_id, status


# --- GetBucketReplicationLocation -----------------------------------------------------------


def encode_replication_location(catalog: RegionCatalog, source_region: str) -> bytes:
    """``GET /?replicationLocation`` for a bucket in ``source_region``.

    Lists the source region too (SRR needs no route), and gives every destination its full
    list of transfer types rather than only the accelerated ones: oss2's own test requires at
    least one LocationTransferType, which a catalog without oss_acc would otherwise not yield.
    """
    destinations = catalog.destinations_from(source_region)
    transfer = element(
        "LocationTransferTypeConstraint",
        *(_location_transfer_type(catalog, source_region, dest) for dest in destinations),
    )
    rtc_locations = [d for d in destinations if d != source_region and catalog.rtc_capable(d)]
    rtc = element("LocationRTCConstraint", *xmlcodec.leaves("Location", rtc_locations))
    return serialize(
        element("ReplicationLocation", *xmlcodec.leaves("Location", destinations), transfer, rtc)
    )


def _location_transfer_type(catalog: RegionCatalog, source: str, destination: str) -> ET.Element:
    # Real OSS lists here only the locations with the accelerated link, as Type oss_acc, and
    # oss2 keeps only the first Type: so the accelerated link goes first, internal after it.
    offered = catalog.transfer_types(source, destination)
    types = [kind.value for kind in sorted(offered, key=lambda kind: kind is TransferType.INTERNAL)]
    return element(
        "LocationTransferType",
        leaf("Location", destination),
        element("TransferTypes", *xmlcodec.leaves("Type", types)),
    )


# --- GetBucketReplicationProgress -----------------------------------------------------------


def encode_replication_progress(
    rule: ReplicationRule, historical_fraction: float, new_object_time: datetime | None
) -> bytes:
    """``GET /?replicationProgress&rule-id=ID``.

    HistoricalObject is written even when historical replication is disabled: oss2's test
    expects 0 there.  NewObject (an HTTP date, "Thu, 24 Sep 2015 15:39:18 GMT", as oss2
    documents it) is left out until every change before some moment has reached the target.
    """
    progress = element(
        "Progress",
        leaf("HistoricalObject", _fraction(historical_fraction)),
        leaf("NewObject", _http_date(new_object_time) if new_object_time is not None else None),
    )
    return serialize(element("ReplicationProgress", element("Rule", *_rule_core(rule), progress)))


def _fraction(value: float) -> str:
    if math.isnan(value):
        raise ValueError("historical progress is NaN")
    return f"{min(max(value, 0.0), 1.0):.2f}"


def _http_date(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("progress times must be timezone-aware")
    return format_datetime(moment.astimezone(UTC), usegmt=True)
