"""The one decision of replication: which rules does a committed change go to?

Pure and table-tested; the outbox hook calls it inside the commit transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ferry.core.encryption import Encryption, SseAlgorithm
from ferry.core.model import ChangeKind, ObjectChange, ReplicationState
from ferry.core.replication_rules import ReplicationRule, RuleStatus, SseKmsStatus, rule_matches


def replicates_encryption(rule: ReplicationRule, encryption: Encryption | None) -> bool:
    """SSE-KMS objects are replicated only when the rule's SourceSelectionCriteria enables them."""
    if encryption is None or encryption.algorithm is not SseAlgorithm.KMS:
        return True
    return rule.sse_kms_status is SseKmsStatus.ENABLED


@dataclass(frozen=True)
class TaskSpec:
    rule_id: str
    kind: ChangeKind
    rtc: bool


def decide(change: ObjectChange, rules: Sequence[ReplicationRule]) -> list[TaskSpec]:
    """The replication tasks one change causes (none for replicas: they never replicate again)."""
    if change.replica or change.version.replication is ReplicationState.REPLICA:
        return []
    specs = []
    for rule in rules:
        if rule.status is RuleStatus.CLOSING:
            continue  # a deleted rule stops new changes at once
        if not rule_matches(rule, change.version.key):
            continue
        if change.kind is not ChangeKind.PUT and not rule.replicates_deletes:
            continue  # Action PUT replicates writes only
        if change.kind is ChangeKind.PUT and not replicates_encryption(rule, change.version.encryption):
            continue
        specs.append(TaskSpec(rule.rule_id, change.kind, rule.rtc_enabled))
    return specs
