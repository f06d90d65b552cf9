"""Replication rules: the domain model and the validation of PutBucketReplication / PutBucketRTC.

Everything here is pure: the service layer gathers the facts (the destination bucket, the rules
already configured, whether a RAM role may write to the target) and passes them in, so every
error code of the PutBucketReplication table can be tested without storage or HTTP.

The order of the checks is part of the contract (an SDK user sees the first failing check):

1. ``MissingArgument``  - Destination/Bucket or Destination/Location absent or empty; an empty
   TransferType element; SSE-KMS replication Enabled (with a SyncRole) but no ReplicaKmsKeyID.
2. ``InvalidArgument``  - a value that is wrong on its own: Action, TransferType, RTC status,
   HistoricalObjectReplication, SSE-KMS status, rule ID length, prefixes (count, size, overlap).
3. ``BadReplicationLocation``   - Location is not a region Ferry knows.
4. ``InvalidTargetBucket``      - SRR onto the source bucket itself.
5. ``NoReplicationLocation``    - CRR, and the source region has no route at all.
6. ``BadReplicationLocation``   - CRR to a region the source region has no route to.
7. ``InvalidArgument``          - the transfer type is not offered on that link (oss_acc for SRR).
8. ``ReplicationLocationNotSupportRtc`` - RTC enabled for SRR or towards a region without RTC.
9. ``InvalidTargetBucket``      - the destination bucket does not exist.
10. ``InvalidTargetLocation``   - it exists, but in another region than Location.
11. ``InvalidTargetBucket``     - it belongs to another account and no SyncRole allows writing.
12. ``InvalidArgument``         - versioning differs (one side Enabled, the other not).
13. ``BucketReplicationAlreadyExist`` - the rule ID is taken, or a live rule has the same target.
14. ``TooManyOutgoingReplication`` / 15. ``TooManyIncomingReplication`` - 100 rules.

Request-only checks come first (they need no lookup and are the client's plain mistakes); the
region checks precede the bucket checks because the service finds the target bucket through
Location; conflicts with other rules and quotas come last, since they only mean something for
an otherwise valid rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ferry.core.errors import OssError

MAX_PREFIXES = 10
MAX_PREFIX_BYTES = 1023
MAX_RULE_ID_BYTES = 255
MAX_RULES_PER_BUCKET = 100
DEFAULT_ACTION = "ALL"
# OSS's own SDK (oss2.models.ReplicationRule) offers ALL, PUT, DELETE and ABORT, and its test
# suite sends "PUT,DELETE,ABORT" and expects it echoed back, so all four are accepted.
VALID_ACTIONS = frozenset({"ALL", "PUT", "DELETE", "ABORT"})
_DELETE_ACTIONS = frozenset({"ALL", "DELETE"})


class RuleStatus(StrEnum):
    """Server-assigned life cycle: created -> replicating -> deleted but still draining."""

    STARTING = "starting"
    DOING = "doing"
    CLOSING = "closing"


class TransferType(StrEnum):
    INTERNAL = "internal"
    OSS_ACC = "oss_acc"


class Toggle(StrEnum):
    """The lower-case switch used by RTC/Status and HistoricalObjectReplication."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class SseKmsStatus(StrEnum):
    """SourceSelectionCriteria/SseKmsEncryptedObjects/Status is capitalised, unlike RTC."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"


@dataclass(frozen=True)
class RuleRequest:
    """A Rule as the client sent it: raw texts, ``None`` where the element was absent."""

    rule_id: str | None = None
    prefixes: tuple[str, ...] = ()
    action: str | None = None
    dest_bucket: str | None = None
    dest_location: str | None = None
    transfer_type: str | None = None
    historical: str | None = None
    sync_role: str | None = None
    sse_kms_status: str | None = None
    replica_kms_key_id: str | None = None
    rtc_status: str | None = None


@dataclass(frozen=True)
class ReplicationRule:
    """A validated, normalised rule as it is stored and reported."""

    rule_id: str
    dest_bucket: str
    dest_location: str
    prefixes: tuple[str, ...] = ()
    # Kept as the client listed them so GetBucketReplication echoes "PUT,DELETE,ABORT" back.
    actions: tuple[str, ...] = (DEFAULT_ACTION,)
    transfer_type: TransferType = TransferType.INTERNAL
    historical_enabled: bool = True
    sync_role: str | None = None
    sse_kms_status: SseKmsStatus | None = None
    replica_kms_key_id: str | None = None
    rtc_status: Toggle | None = None
    status: RuleStatus = RuleStatus.STARTING

    @property
    def replicates_deletes(self) -> bool:
        """Action PUT replicates writes only; ALL (or an explicit DELETE) also deletes."""
        return any(action in _DELETE_ACTIONS for action in self.actions)

    @property
    def rtc_enabled(self) -> bool:
        return self.rtc_status == Toggle.ENABLED


def request_of(rule: ReplicationRule) -> RuleRequest:
    """The request that, sent again, describes ``rule`` (used to echo and to test round trips)."""
    return RuleRequest(
        rule_id=rule.rule_id,
        prefixes=rule.prefixes,
        action=",".join(rule.actions),
        dest_bucket=rule.dest_bucket,
        dest_location=rule.dest_location,
        transfer_type=rule.transfer_type.value,
        historical=(Toggle.ENABLED if rule.historical_enabled else Toggle.DISABLED).value,
        sync_role=rule.sync_role,
        sse_kms_status=rule.sse_kms_status.value if rule.sse_kms_status else None,
        replica_kms_key_id=rule.replica_kms_key_id,
        rtc_status=rule.rtc_status.value if rule.rtc_status else None,
    )


def rule_matches(rule: ReplicationRule, key: str) -> bool:
    """Whether an object key falls under the rule's prefix filter (no prefixes: every key)."""
    return not rule.prefixes or any(key.startswith(prefix) for prefix in rule.prefixes)


# --- regions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A cross-region link: ``source`` may replicate to ``destination``.

    ``internal`` is implied on every route; list ``oss_acc`` where the accelerated link exists.
    """

    source: str
    destination: str
    transfer_types: tuple[TransferType, ...] = (TransferType.INTERNAL,)


@dataclass(frozen=True)
class RegionCatalog:
    """Which regions exist, which accept RTC, and which region may replicate to which.

    Same-region replication needs no route: every known region may replicate into itself over
    the ``internal`` link.  Routes are one-way; list both directions for a symmetric pair.
    """

    regions: tuple[str, ...]
    rtc_regions: frozenset[str] = frozenset()
    routes: tuple[Route, ...] = ()
    _by_pair: dict[tuple[str, str], tuple[TransferType, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        known = set(self.regions)
        by_pair: dict[tuple[str, str], tuple[TransferType, ...]] = {}
        for route in self.routes:
            if route.source not in known or route.destination not in known:
                raise ValueError(f"route {route.source}->{route.destination} names an unknown region")
            if route.source == route.destination:
                raise ValueError(f"route {route.source}->{route.destination}: SRR needs no route")
            by_pair[(route.source, route.destination)] = _with_internal(route.transfer_types)
        if not self.rtc_regions <= known:
            raise ValueError("an RTC region is not in the region list")
        # A frozen dataclass can still cache a derived index; object.__setattr__ is the
        # documented way to do it and keeps lookups O(1) without a mutable public field.
        object.__setattr__(self, "_by_pair", by_pair)

    def is_known(self, region: str) -> bool:
        return region in self.regions

    def routes_from(self, region: str) -> tuple[Route, ...]:
        """The cross-region routes leaving ``region`` (SRR is not listed: it needs no route)."""
        return tuple(route for route in self.routes if route.source == region)

    def destinations_from(self, region: str) -> tuple[str, ...]:
        """Every region ``region`` can replicate into: itself first (SRR), then its routes."""
        if not self.is_known(region):
            return ()
        return (region, *(route.destination for route in self.routes_from(region)))

    def transfer_types(self, source: str, destination: str) -> tuple[TransferType, ...]:
        """The links offered from ``source`` to ``destination``; () when there is no way."""
        if source == destination:
            return (TransferType.INTERNAL,) if self.is_known(source) else ()
        return self._by_pair.get((source, destination), ())

    def rtc_capable(self, destination: str) -> bool:
        return destination in self.rtc_regions


def _with_internal(types: tuple[TransferType, ...]) -> tuple[TransferType, ...]:
    # TransferType(...) also accepts plain strings from a config file and rejects typos early.
    ordered = [TransferType.INTERNAL]
    for kind in (TransferType(t) for t in types):
        if kind not in ordered:
            ordered.append(kind)
    return tuple(ordered)


@dataclass(frozen=True)
class TargetBucketFacts:
    """What the service found out about the destination bucket.

    ``region`` or ``owner_id`` may be ``None`` when unknown: an unknown region skips the
    location comparison, an unknown owner counts as a foreign owner (we fail closed).
    """

    exists: bool
    region: str | None = None
    versioning: str | None = None
    owner_id: str | None = None


# --- validation -----------------------------------------------------------------------------


def validate_new_rule(
    req: RuleRequest,
    *,
    source_bucket: str,
    source_region: str,
    source_owner_id: str,
    source_versioning: str | None,
    catalog: RegionCatalog,
    target: TargetBucketFacts,
    existing_outgoing: Sequence[ReplicationRule],
    incoming_count_for_target: int,
    role_allows_target: bool,
    new_rule_id: Callable[[], str],
) -> ReplicationRule:
    """Check a PutBucketReplication rule (order: see the module docstring) and normalise it."""
    dest_bucket, dest_location = _require_destination(req)
    actions = _parse_actions(req.action)
    transfer_type = _parse_transfer_type(req.transfer_type)
    historical = _parse_toggle(req.historical, "HistoricalObjectReplication", Toggle.ENABLED)
    rtc = _parse_toggle(req.rtc_status, "RTC/Status", None)
    sse = _parse_sse_status(req.sse_kms_status)
    _check_rule_id(req.rule_id)
    _check_prefixes(req.prefixes)

    _check_route(source_bucket, source_region, dest_bucket, dest_location, transfer_type, catalog)
    _check_rtc(rtc, source_region, dest_location, catalog)
    _check_target(target, dest_location, source_owner_id, req.sync_role, role_allows_target)
    _check_versioning(source_versioning, target.versioning)
    _check_conflicts(req.rule_id, dest_bucket, dest_location, existing_outgoing)
    _check_quotas(existing_outgoing, incoming_count_for_target)

    sync_role = req.sync_role or None
    # Without a role OSS cannot use KMS on the target's behalf, so the encryption settings are
    # meaningless and OSS drops them (oss2's tests read them back as None); so do we.
    if sync_role is None:
        sse = None
    kms_key = req.replica_kms_key_id or None
    if sse != SseKmsStatus.ENABLED:
        kms_key = None
    return ReplicationRule(
        rule_id=req.rule_id or new_rule_id(),
        dest_bucket=dest_bucket,
        dest_location=dest_location,
        prefixes=req.prefixes,
        actions=actions,
        transfer_type=transfer_type,
        historical_enabled=historical != Toggle.DISABLED,
        sync_role=sync_role,
        sse_kms_status=sse,
        replica_kms_key_id=kms_key,
        rtc_status=rtc,
        status=RuleStatus.STARTING,
    )


def validate_rtc_change(
    rule: ReplicationRule, status: str, catalog: RegionCatalog, source_region: str
) -> ReplicationRule:
    """PutBucketRTC: switch RTC on or off for one rule; enabling needs an RTC-capable CRR rule."""
    toggle = _parse_toggle(status, "RTC/Status", None)
    if toggle is None:
        raise OssError("MissingArgument", "RTC/Status is required.")
    _check_rtc(toggle, source_region, rule.dest_location, catalog)
    return replace(rule, rtc_status=toggle)


# --- request-only checks --------------------------------------------------------------------


def _require_destination(req: RuleRequest) -> tuple[str, str]:
    if not req.dest_bucket:
        raise OssError("MissingArgument", "Destination/Bucket is required.")
    if not req.dest_location:
        raise OssError("MissingArgument", "Destination/Location is required.")
    # Absent TransferType means "internal" (oss2 sends none unless asked), but an element that
    # is present and empty names no link at all: that is OSS's "transmission link not specified".
    if req.transfer_type is not None and not req.transfer_type:
        raise OssError("MissingArgument", "Destination/TransferType is empty.")
    return req.dest_bucket, req.dest_location


def _parse_actions(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return (DEFAULT_ACTION,)
    actions = tuple(part.strip() for part in raw.split(","))
    for action in actions:
        if action not in VALID_ACTIONS:
            raise OssError("InvalidArgument", f"Action {action!r} is not one of ALL, PUT, DELETE, ABORT.")
    return actions


def _parse_transfer_type(raw: str | None) -> TransferType:
    if raw is None:
        return TransferType.INTERNAL
    try:
        return TransferType(raw)
    except ValueError:
        raise OssError("InvalidArgument", f"TransferType {raw!r} is not internal or oss_acc.") from None


def _parse_toggle(raw: str | None, name: str, default: Toggle | None) -> Toggle | None:
    if raw is None:
        return default
    try:
        return Toggle(raw)
    except ValueError:
        raise OssError("InvalidArgument", f"{name} must be enabled or disabled.") from None


def _parse_sse_status(raw: str | None) -> SseKmsStatus | None:
    if raw is None:
        return None
    try:
        return SseKmsStatus(raw)
    except ValueError:
        raise OssError(
            "InvalidArgument", "SseKmsEncryptedObjects/Status must be Enabled or Disabled."
        ) from None


def _check_rule_id(rule_id: str | None) -> None:
    if rule_id is not None and len(rule_id.encode()) > MAX_RULE_ID_BYTES:
        raise OssError("InvalidArgument", f"The rule ID is longer than {MAX_RULE_ID_BYTES} bytes.")


def _check_prefixes(prefixes: tuple[str, ...]) -> None:
    if len(prefixes) > MAX_PREFIXES:
        raise OssError("InvalidArgument", f"A rule can have at most {MAX_PREFIXES} prefixes.")
    for prefix in prefixes:
        if len(prefix.encode()) > MAX_PREFIX_BYTES:
            raise OssError("InvalidArgument", f"A prefix is longer than {MAX_PREFIX_BYTES} bytes.")
    # OSS rejects overlapping prefixes (its error 0031-00000019, "source" and "source/video"):
    # they would select one key twice and say nothing the shorter prefix does not say.
    ordered = sorted(prefixes)
    for shorter, longer in itertools.pairwise(ordered):
        if longer.startswith(shorter):
            raise OssError("InvalidArgument", f"Prefixes {shorter!r} and {longer!r} overlap.")


# --- checks against the regions, the target and the other rules -----------------------------


def _check_route(
    source_bucket: str,
    source_region: str,
    dest_bucket: str,
    dest_location: str,
    transfer_type: TransferType,
    catalog: RegionCatalog,
) -> None:
    if not catalog.is_known(dest_location):
        raise OssError("BadReplicationLocation", f"{dest_location!r} is not a known region.")
    same_region = dest_location == source_region
    if same_region and dest_bucket == source_bucket:
        raise OssError("InvalidTargetBucket", "The target bucket cannot be the source bucket.")
    if not same_region and not catalog.routes_from(source_region):
        raise OssError("NoReplicationLocation")
    offered = catalog.transfer_types(source_region, dest_location)
    if not offered:
        raise OssError("BadReplicationLocation", f"{source_region} cannot replicate to {dest_location}.")
    if transfer_type not in offered:
        raise OssError(
            "InvalidArgument",
            f"TransferType {transfer_type.value} is not offered from {source_region} to {dest_location}.",
        )


def _check_rtc(rtc: Toggle | None, source_region: str, dest_location: str, catalog: RegionCatalog) -> None:
    # Switching RTC off (or never on) is always fine; only enabling needs a capable CRR target.
    if rtc != Toggle.ENABLED:
        return
    if dest_location == source_region:
        raise OssError("ReplicationLocationNotSupportRtc", "RTC is only available for cross-region rules.")
    if not catalog.rtc_capable(dest_location):
        raise OssError("ReplicationLocationNotSupportRtc", f"{dest_location} does not support RTC.")


def _check_target(
    target: TargetBucketFacts,
    dest_location: str,
    source_owner_id: str,
    sync_role: str | None,
    role_allows_target: bool,
) -> None:
    if not target.exists:
        raise OssError("InvalidTargetBucket", "The target bucket does not exist.")
    if target.region is not None and target.region != dest_location:
        raise OssError("InvalidTargetLocation")
    if target.owner_id != source_owner_id and not (sync_role and role_allows_target):
        raise OssError(
            "InvalidTargetBucket",
            "The target bucket belongs to another account and no SyncRole allows writing to it.",
        )


def _check_versioning(source: str | None, target: str | None) -> None:
    # Versioned replication keeps version IDs and delete markers, which an unversioned target
    # cannot hold; the other way round, it would invent versions.  Suspended counts as "not".
    if (source == "Enabled") != (target == "Enabled"):
        raise OssError(
            "InvalidArgument",
            "The source and target buckets must both have versioning enabled, or both not.",
        )


def _live(rules: Sequence[ReplicationRule]) -> list[ReplicationRule]:
    # A closing rule only drains work already queued.  The documented cure for
    # BucketReplicationAlreadyExist and TooMany*Replication is "delete the rule", which leaves it
    # closing, so closing rules must not block a new rule nor count against the quota.
    return [rule for rule in rules if rule.status != RuleStatus.CLOSING]


def _check_conflicts(
    rule_id: str | None, dest_bucket: str, dest_location: str, existing: Sequence[ReplicationRule]
) -> None:
    # IDs address rules in GetBucketReplicationProgress, PutBucketRTC and Delete, closing ones
    # included, so an ID stays taken until the closing rule is gone.
    if rule_id and any(rule.rule_id == rule_id for rule in existing):
        raise OssError("BucketReplicationAlreadyExist", f"A rule with ID {rule_id!r} already exists.")
    for rule in _live(existing):
        if rule.dest_bucket == dest_bucket and rule.dest_location == dest_location:
            raise OssError("BucketReplicationAlreadyExist")


def _check_quotas(existing: Sequence[ReplicationRule], incoming_count_for_target: int) -> None:
    if len(_live(existing)) >= MAX_RULES_PER_BUCKET:
        raise OssError("TooManyOutgoingReplication")
    if incoming_count_for_target >= MAX_RULES_PER_BUCKET:
        raise OssError("TooManyIncomingReplication")
