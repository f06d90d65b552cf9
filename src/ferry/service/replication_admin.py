"""Replication configuration use cases: the six APIs of the seeds, minus HTTP.

Facts about a destination bucket in another region come through a
:class:`TargetDirectory`, so this module never knows whether the destination
is local (SRR) or a remote region (CRR).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ferry.core.clock import Clock
from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import Bucket
from ferry.core.replication_rules import (
    RegionCatalog,
    ReplicationRule,
    RuleRequest,
    RuleStatus,
    TargetBucketFacts,
    validate_new_rule,
    validate_rtc_change,
)
from ferry.storage.sqlite_replication import IncomingRule, SqliteReplicationStore

VERSIONING_LOCKED_EC = "0012-00000005"


class TargetDirectory(Protocol):
    def describe(self, bucket: str, location: str) -> tuple[TargetBucketFacts, int]:
        """Facts about ``bucket`` in region ``location``, and how many rules already point at it."""
        ...

    def register(self, location: str, incoming: IncomingRule) -> None: ...

    def withdraw(self, location: str, incoming: IncomingRule) -> None: ...

    def role_may_write(self, location: str, bucket: str, actor: ReplicaActor, probe_keys: list[str]) -> bool:
        """Whether the rule's SyncRole may write the probe keys into ``bucket`` (cross-account)."""
        ...


class ProgressSource(Protocol):
    def progress(self, bucket: str, rule: ReplicationRule) -> tuple[float, float | None]:
        """(historical fraction done, NewObject time or None) from durable replication state."""
        ...


@dataclass(frozen=True)
class RuleProgress:
    rule: ReplicationRule
    historical_fraction: float
    new_object_time: float | None


class ReplicationAdmin:
    def __init__(
        self,
        region: str,
        catalog: RegionCatalog,
        rules: SqliteReplicationStore,
        directory: TargetDirectory,
        progress: ProgressSource,
        clock: Clock,
    ) -> None:
        self._region = region
        self._catalog = catalog
        self._rules = rules
        self._directory = directory
        self._progress = progress
        self._clock = clock

    @property
    def catalog(self) -> RegionCatalog:
        return self._catalog

    def add_rule(self, bucket: Bucket, request: RuleRequest) -> ReplicationRule:
        existing = [stored.rule for stored in self._rules.list_rules(bucket.name)]
        facts, incoming = self._describe_target(request)
        rule = validate_new_rule(
            request,
            source_bucket=bucket.name,
            source_region=self._region,
            source_owner_id=bucket.owner_id,
            source_versioning=bucket.versioning.value or None,
            catalog=self._catalog,
            target=facts,
            existing_outgoing=existing,
            incoming_count_for_target=incoming,
            role_allows_target=self._role_allows(bucket, request, facts),
            new_rule_id=lambda: str(uuid.uuid4()),
        )
        registration = IncomingRule(rule.dest_bucket, self._region, bucket.name, rule.rule_id)
        # Register at the destination first: a crash in between leaves a stale registration
        # (a rule counted once too often), never a rule the destination does not know about.
        self._directory.register(rule.dest_location, registration)
        try:
            self._rules.add_rule(bucket.name, rule, self._clock.now())
        except BaseException:
            self._directory.withdraw(rule.dest_location, registration)
            raise
        return rule

    def _role_allows(self, bucket: Bucket, request: RuleRequest, facts: TargetBucketFacts) -> bool:
        """A rule into another account's bucket needs a SyncRole of the source account that the
        destination lets write under every prefix of the rule (asked only when it matters)."""
        if not (facts.exists and request.sync_role and request.dest_bucket and request.dest_location):
            return False
        if facts.owner_id == bucket.owner_id:
            return False  # same account: no role needed, validation does not ask
        actor = ReplicaActor(bucket.owner_id, request.sync_role)
        probes = list(request.prefixes) or [""]
        return self._directory.role_may_write(request.dest_location, request.dest_bucket, actor, probes)

    def _describe_target(self, request: RuleRequest) -> tuple[TargetBucketFacts, int]:
        bucket, location = request.dest_bucket, request.dest_location
        if not bucket or not location or not self._catalog.is_known(location):
            # validate_new_rule() reports the missing or unknown destination precisely.
            return TargetBucketFacts(exists=False), 0
        facts, incoming = self._directory.describe(bucket, location)
        if facts.exists:
            return facts, incoming
        # Not where the rule says: if it lives in another region, say so (InvalidTargetLocation)
        # rather than that it does not exist.
        for region in self._catalog.regions:
            if region == location:
                continue
            try:
                elsewhere, count = self._directory.describe(bucket, region)
            except OssError:
                continue  # an unreachable region cannot tell; the answer stays "no such bucket"
            if elsewhere.exists:
                return elsewhere, count
        return facts, incoming

    def rules(self, bucket: Bucket) -> list[ReplicationRule]:
        rules = [stored.rule for stored in self._rules.list_rules(bucket.name)]
        if not rules:
            raise OssError("NoSuchReplicationConfiguration", BucketName=bucket.name)
        return rules

    def has_live_rules(self, bucket: str) -> bool:
        return any(s.rule.status is not RuleStatus.CLOSING for s in self._rules.list_rules(bucket))

    def delete_rules(self, bucket: Bucket, rule_ids: Sequence[str]) -> None:
        """Mark the rules closing; the engine removes them once their work is finished."""
        now = self._clock.now()
        for stored in self._rules.list_rules(bucket.name):
            if stored.rule.rule_id in rule_ids and stored.rule.status is not RuleStatus.CLOSING:
                self._rules.update_rule(bucket.name, replace(stored.rule, status=RuleStatus.CLOSING), now)

    def set_rtc(self, bucket: Bucket, rule_id: str, status: str) -> ReplicationRule:
        rule = self._find(bucket, rule_id)
        changed = validate_rtc_change(rule, status, self._catalog, self._region)
        self._rules.update_rule(bucket.name, changed, self._clock.now())
        return changed

    def progress(self, bucket: Bucket, rule_id: str) -> RuleProgress:
        rule = self._find(bucket, rule_id)
        if rule.status is RuleStatus.STARTING:
            # The engine has not taken the rule yet: nothing is replicated so far.
            return RuleProgress(rule, 0.0, None)
        fraction, new_object = self._progress.progress(bucket.name, rule)
        return RuleProgress(rule, fraction if rule.historical_enabled else 0.0, new_object)

    def _find(self, bucket: Bucket, rule_id: str) -> ReplicationRule:
        for stored in self._rules.list_rules(bucket.name):
            if stored.rule.rule_id == rule_id:
                return stored.rule
        raise OssError("NoSuchReplicationRule", BucketName=bucket.name)

    def versioning_locked(self, bucket: str) -> bool:
        """Versioning cannot change while rules leave from or arrive at the bucket."""
        return self._rules.has_rules(bucket) or self._rules.count_incoming(bucket) > 0

    def check_versioning_change(self, bucket: str) -> None:
        if self.versioning_locked(bucket):
            raise OssError(
                "InvalidArgument",
                "Versioning cannot be changed while the bucket has data replication rules.",
                BucketName=bucket,
                EC=VERSIONING_LOCKED_EC,
            )
