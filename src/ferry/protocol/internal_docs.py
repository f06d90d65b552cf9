"""Documents of Ferry's region-to-region calls (not part of the OSS API).

A region asks another about a destination bucket (``GET /<bucket>?x-ferry-replication-target``)
and registers or withdraws an incoming rule there (``POST ...&comp=add|delete``), so the
destination can count its incoming rules and refuse versioning changes while they exist.
"""

from __future__ import annotations

from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.replication_rules import TargetBucketFacts
from ferry.protocol.xmlcodec import element, leaf, parse, serialize, text_of
from ferry.storage.sqlite_replication import IncomingRule

TARGET_SUBRESOURCE = "x-ferry-replication-target"
ROLE_SUBRESOURCE = "x-ferry-replication-role"
"""``POST /<bucket>?x-ferry-replication-role``: may this SyncRole write there (a cross-account rule)?"""


def encode_target_facts(facts: TargetBucketFacts, incoming_rules: int) -> bytes:
    return serialize(
        element(
            "ReplicationTarget",
            leaf("Exists", facts.exists),
            leaf("Location", facts.region),
            leaf("Versioning", facts.versioning),
            leaf("OwnerId", facts.owner_id),
            leaf("IncomingRules", incoming_rules),
        )
    )


def parse_target_facts(body: bytes) -> tuple[TargetBucketFacts, int]:
    root = parse(body, "ReplicationTarget")
    facts = TargetBucketFacts(
        exists=text_of(root, "Exists") == "true",
        region=text_of(root, "Location") or None,
        versioning=text_of(root, "Versioning") or None,
        owner_id=text_of(root, "OwnerId") or None,
    )
    return facts, int(text_of(root, "IncomingRules") or 0)


def encode_incoming(incoming: IncomingRule) -> bytes:
    return serialize(
        element(
            "IncomingRule",
            leaf("SourceRegion", incoming.source_region),
            leaf("SourceBucket", incoming.source_bucket),
            leaf("ID", incoming.rule_id),
        )
    )


def parse_incoming(body: bytes, dest_bucket: str) -> IncomingRule:
    root = parse(body, "IncomingRule")
    region, bucket, rule_id = (text_of(root, n) for n in ("SourceRegion", "SourceBucket", "ID"))
    if not region or not bucket or not rule_id:
        raise OssError("MissingArgument", "IncomingRule needs SourceRegion, SourceBucket and ID.")
    return IncomingRule(dest_bucket, region, bucket, rule_id)


def encode_role_check(actor: ReplicaActor, probe_keys: list[str]) -> bytes:
    return serialize(
        element(
            "ReplicationRoleCheck",
            leaf("Account", actor.account_id),
            leaf("Role", actor.role),
            *(leaf("Key", key) for key in probe_keys),
        )
    )


def parse_role_check(body: bytes) -> tuple[ReplicaActor, list[str]]:
    root = parse(body, "ReplicationRoleCheck")
    account = text_of(root, "Account")
    if not account:
        raise OssError("MissingArgument", "ReplicationRoleCheck needs an Account.")
    keys = [node.text or "" for node in root.findall("Key")]
    return ReplicaActor(account, text_of(root, "Role") or None), keys or [""]


def encode_role_answer(allowed: bool) -> bytes:
    return serialize(element("ReplicationRoleCheckResult", leaf("Allowed", allowed)))


def parse_role_answer(body: bytes) -> bool:
    return text_of(parse(body, "ReplicationRoleCheckResult"), "Allowed") == "true"
