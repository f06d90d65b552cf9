"""Documents of Ferry's region-to-region calls (not part of the OSS API).

A region asks another about a destination bucket (``GET /<bucket>?x-ferry-replication-target``)
and registers or withdraws an incoming rule there (``POST ...&comp=add|delete``), so the
destination can count its incoming rules and refuse versioning changes while they exist.
"""

from __future__ import annotations

from ferry.core.errors import OssError
from ferry.core.replication_rules import TargetBucketFacts
from ferry.protocol.xmlcodec import element, leaf, parse, serialize, text_of
from ferry.storage.sqlite_replication import IncomingRule

TARGET_SUBRESOURCE = "x-ferry-replication-target"


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
