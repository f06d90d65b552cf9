"""XML of PutBucketLifecycle / GetBucketLifecycle (``LifecycleConfiguration``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ferry.core import lifecycle as lc
from ferry.core.errors import OssError
from ferry.protocol.xmlcodec import children, element, leaf, parse, serialize, text_of
from ferry.protocol.xmlvalues import bool_of, int_of, int_value, required


def _date_of(node: ET.Element, name: str) -> str | None:
    text = text_of(node, name)
    return None if text is None else lc.parse_date(text)


def _expiration(node: ET.Element | None) -> lc.Expiration | None:
    if node is None:
        return None
    return lc.Expiration(
        days=int_of(node, "Days"),
        date=_date_of(node, "Date"),
        created_before_date=_date_of(node, "CreatedBeforeDate"),
        expired_object_delete_marker=bool_of(node, "ExpiredObjectDeleteMarker"),
    )


def _abort(node: ET.Element | None) -> lc.AbortMultipartUpload | None:
    if node is None:
        return None
    return lc.AbortMultipartUpload(
        days=int_of(node, "Days"), created_before_date=_date_of(node, "CreatedBeforeDate")
    )


def _transition(node: ET.Element) -> lc.Transition:
    return lc.Transition(
        storage_class=required(node, "StorageClass"),
        days=int_of(node, "Days"),
        created_before_date=_date_of(node, "CreatedBeforeDate"),
        is_access_time=bool_of(node, "IsAccessTime"),
        return_to_std_when_visit=bool_of(node, "ReturnToStdWhenVisit"),
        allow_small_file=bool_of(node, "AllowSmallFile"),
    )


def _noncurrent_transition(node: ET.Element) -> lc.NoncurrentTransition:
    return lc.NoncurrentTransition(
        noncurrent_days=int_value(required(node, "NoncurrentDays"), "NoncurrentDays"),
        storage_class=required(node, "StorageClass"),
        is_access_time=bool_of(node, "IsAccessTime"),
        return_to_std_when_visit=bool_of(node, "ReturnToStdWhenVisit"),
        allow_small_file=bool_of(node, "AllowSmallFile"),
    )


def _tags(nodes: list[ET.Element]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for node in nodes:
        tags[required(node, "Key", strip=False)] = text_of(node, "Value", strip=False) or ""
    return tags


def _filter(node: ET.Element | None) -> lc.Filter | None:
    if node is None:
        return None
    nots = []
    for n in children(node, "Not"):
        nots.append(
            lc.FilterNot(
                prefix=text_of(n, "Prefix", strip=False) or "",
                tag_key=text_of(n, "Tag/Key", strip=False),
                tag_value=text_of(n, "Tag/Value", strip=False),
            )
        )
    return lc.Filter(
        object_size_greater_than=int_of(node, "ObjectSizeGreaterThan"),
        object_size_less_than=int_of(node, "ObjectSizeLessThan"),
        nots=tuple(nots),
    )


def parse_lifecycle(body: bytes) -> lc.LifecycleConfiguration:
    root = parse(body, "LifecycleConfiguration")
    rules = []
    for node in children(root, "Rule"):
        noncurrent = node.find("NoncurrentVersionExpiration")
        rule_filter = node.find("Filter")
        prefix = text_of(node, "Prefix", strip=False)
        if prefix is None and rule_filter is not None:
            prefix = text_of(rule_filter, "Prefix", strip=False)
        rules.append(
            lc.LifecycleRule(
                id=text_of(node, "ID") or "",
                prefix=prefix or "",
                status=required(node, "Status"),
                expiration=_expiration(node.find("Expiration")),
                abort_multipart_upload=_abort(node.find("AbortMultipartUpload")),
                transitions=tuple(_transition(t) for t in children(node, "Transition")),
                tags=_tags(node.findall("Tag")),
                noncurrent_days=(
                    int_value(required(noncurrent, "NoncurrentDays"), "NoncurrentDays")
                    if noncurrent is not None
                    else None
                ),
                noncurrent_transitions=tuple(
                    _noncurrent_transition(t) for t in children(node, "NoncurrentVersionTransition")
                ),
                filter=_filter(rule_filter),
                atime_base=int_of(node, "AtimeBase"),
            )
        )
    if not rules:
        raise OssError("MalformedXML", "The lifecycle configuration needs at least one Rule.")
    return lc.LifecycleConfiguration(tuple(rules))


def _iso(date: str | None) -> str | None:
    return None if date is None else f"{date}T00:00:00.000Z"


def _class_options(t: lc.Transition | lc.NoncurrentTransition) -> list[ET.Element | None]:
    return [
        leaf("IsAccessTime", t.is_access_time),
        leaf("ReturnToStdWhenVisit", t.return_to_std_when_visit),
        leaf("AllowSmallFile", t.allow_small_file),
    ]


def _rule(rule: lc.LifecycleRule) -> ET.Element:
    exp = rule.expiration
    amu = rule.abort_multipart_upload
    f = rule.filter
    return element(
        "Rule",
        leaf("ID", rule.id),
        leaf("Prefix", rule.prefix),
        leaf("Status", rule.status),
        element(
            "Expiration",
            leaf("Days", exp.days),
            leaf("Date", _iso(exp.date)),
            leaf("CreatedBeforeDate", _iso(exp.created_before_date)),
            leaf("ExpiredObjectDeleteMarker", exp.expired_object_delete_marker),
        )
        if exp is not None
        else None,
        *(
            element(
                "Transition",
                leaf("Days", t.days),
                leaf("CreatedBeforeDate", _iso(t.created_before_date)),
                leaf("StorageClass", t.storage_class),
                *_class_options(t),
            )
            for t in rule.transitions
        ),
        element(
            "AbortMultipartUpload",
            leaf("Days", amu.days),
            leaf("CreatedBeforeDate", _iso(amu.created_before_date)),
        )
        if amu is not None
        else None,
        *(element("Tag", leaf("Key", k), leaf("Value", v)) for k, v in rule.tags.items()),
        element("NoncurrentVersionExpiration", leaf("NoncurrentDays", rule.noncurrent_days))
        if rule.noncurrent_days is not None
        else None,
        *(
            element(
                "NoncurrentVersionTransition",
                leaf("NoncurrentDays", t.noncurrent_days),
                leaf("StorageClass", t.storage_class),
                *_class_options(t),
            )
            for t in rule.noncurrent_transitions
        ),
        element(
            "Filter",
            leaf("ObjectSizeGreaterThan", f.object_size_greater_than),
            leaf("ObjectSizeLessThan", f.object_size_less_than),
            *(
                element(
                    "Not",
                    leaf("Prefix", n.prefix),
                    element("Tag", leaf("Key", n.tag_key), leaf("Value", n.tag_value or ""))
                    if n.tag_key is not None
                    else None,
                )
                for n in f.nots
            ),
        )
        if f is not None
        else None,
        leaf("AtimeBase", rule.atime_base),
    )


def lifecycle(config: lc.LifecycleConfiguration) -> bytes:
    return serialize(element("LifecycleConfiguration", *(_rule(r) for r in config.rules)))
