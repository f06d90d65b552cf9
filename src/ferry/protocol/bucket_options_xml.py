"""XML of the small bucket configurations: CORS, referer, logging, tags, default encryption,
requester pays, public access block and storage capacity."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ferry.core import bucket_options as opts
from ferry.core.cors import CorsConfiguration, CorsRule
from ferry.core.errors import OssError
from ferry.core.referer import RefererConfiguration
from ferry.core.worm import WormConfiguration
from ferry.protocol.xmlcodec import children, element, leaf, leaves, parse, serialize, text_of
from ferry.protocol.xmlvalues import bool_of, int_of, int_value, required

# --- CORS ---------------------------------------------------------------------------


def _texts(parent: ET.Element, name: str) -> tuple[str, ...]:
    return tuple((node.text or "").strip() for node in parent.findall(name))


def parse_cors(body: bytes) -> CorsConfiguration:
    root = parse(body, "CORSConfiguration")
    rules = []
    for node in children(root, "CORSRule"):
        rules.append(
            CorsRule(
                allowed_origins=_texts(node, "AllowedOrigin"),
                allowed_methods=_texts(node, "AllowedMethod"),
                allowed_headers=_texts(node, "AllowedHeader"),
                expose_headers=_texts(node, "ExposeHeader"),
                max_age_seconds=int_of(node, "MaxAgeSeconds"),
            )
        )
    return CorsConfiguration(tuple(rules), bool_of(root, "ResponseVary") or False)


def cors(config: CorsConfiguration) -> bytes:
    rules = (
        element(
            "CORSRule",
            *leaves("AllowedOrigin", r.allowed_origins),
            *leaves("AllowedMethod", r.allowed_methods),
            *leaves("AllowedHeader", r.allowed_headers),
            *leaves("ExposeHeader", r.expose_headers),
            leaf("MaxAgeSeconds", r.max_age_seconds),
        )
        for r in config.rules
    )
    return serialize(element("CORSConfiguration", *rules, leaf("ResponseVary", config.response_vary)))


# --- referer --------------------------------------------------------------------------


def parse_referer(body: bytes) -> RefererConfiguration:
    root = parse(body, "RefererConfiguration")
    allow_empty = bool_of(root, "AllowEmptyReferer")
    if allow_empty is None:
        raise OssError("MalformedXML", "RefererConfiguration needs AllowEmptyReferer.")
    truncate = bool_of(root, "AllowTruncateQueryString")
    white, black = root.find("RefererList"), root.find("RefererBlacklist")
    return RefererConfiguration(
        allow_empty_referer=allow_empty,
        referers=_texts(white, "Referer") if white is not None else (),
        allow_truncate_query_string=True if truncate is None else truncate,
        truncate_path=bool_of(root, "TruncatePath") or False,
        black_referers=_texts(black, "Referer") if black is not None else (),
    )


def referer(config: RefererConfiguration | None) -> bytes:
    config = config or RefererConfiguration()
    root = element(
        "RefererConfiguration",
        leaf("AllowEmptyReferer", config.allow_empty_referer),
        leaf("AllowTruncateQueryString", config.allow_truncate_query_string),
        leaf("TruncatePath", config.truncate_path),
        element("RefererList", *leaves("Referer", config.referers)),
        element("RefererBlacklist", *leaves("Referer", config.black_referers))
        if config.black_referers
        else None,
    )
    return serialize(root)


# --- logging --------------------------------------------------------------------------


def parse_logging(body: bytes) -> opts.LoggingConfiguration | None:
    """None: the document turns logging off (no LoggingEnabled)."""
    root = parse(body, "BucketLoggingStatus")
    enabled = root.find("LoggingEnabled")
    if enabled is None:
        return None
    target = required(enabled, "TargetBucket")
    return opts.LoggingConfiguration(target, text_of(enabled, "TargetPrefix", strip=False) or "")


def logging_status(config: opts.LoggingConfiguration | None) -> bytes:
    enabled = None
    if config is not None:
        enabled = element(
            "LoggingEnabled",
            leaf("TargetBucket", config.target_bucket),
            leaf("TargetPrefix", config.target_prefix),
        )
    return serialize(element("BucketLoggingStatus", enabled))


# --- tags -------------------------------------------------------------------------------


def parse_bucket_tags(body: bytes) -> dict[str, str]:
    root = parse(body, "Tagging")
    tags: dict[str, str] = {}
    tag_set = root.find("TagSet")
    for tag in children(tag_set, "Tag") if tag_set is not None else ():
        key = text_of(tag, "Key", strip=False)
        if key is None or key in tags:
            raise OssError("InvalidArgument", "Every Tag needs one Key, and keys must be unique.")
        tags[key] = text_of(tag, "Value", strip=False) or ""
    return opts.check_bucket_tags(tags)


def bucket_tags(tags: Mapping[str, str]) -> bytes:
    tag_elements = (element("Tag", leaf("Key", k), leaf("Value", v)) for k, v in tags.items())
    return serialize(element("Tagging", element("TagSet", *tag_elements)))


# --- default encryption -----------------------------------------------------------------


def parse_encryption(body: bytes) -> opts.DefaultEncryption:
    root = parse(body, "ServerSideEncryptionRule")
    apply = root.find("ApplyServerSideEncryptionByDefault")
    if apply is None:
        raise OssError("MalformedXML", "ServerSideEncryptionRule needs ApplyServerSideEncryptionByDefault.")
    return opts.check_default_encryption(
        required(apply, "SSEAlgorithm"), text_of(apply, "KMSMasterKeyID"), text_of(apply, "KMSDataEncryption")
    )


def _encryption_leaves(rule: opts.DefaultEncryption | None) -> list[ET.Element | None]:
    if rule is None:
        return [leaf("SSEAlgorithm", "None")]
    return [
        leaf("SSEAlgorithm", rule.algorithm),
        leaf("KMSMasterKeyID", rule.kms_key_id or "") if rule.algorithm == "KMS" else None,
        leaf("KMSDataEncryption", rule.data_encryption),
    ]


def encryption_rule(rule: opts.DefaultEncryption) -> bytes:
    apply = element("ApplyServerSideEncryptionByDefault", *_encryption_leaves(rule))
    return serialize(element("ServerSideEncryptionRule", apply))


def encryption_info_element(rule: opts.DefaultEncryption | None) -> ET.Element:
    """The ``ServerSideEncryptionRule`` child of GetBucketInfo's Bucket."""
    return element("ServerSideEncryptionRule", *_encryption_leaves(rule))


# --- requester pays, public access block, capacity ---------------------------------------


def parse_request_payment(body: bytes) -> opts.RequestPayment:
    return opts.check_payer(text_of(parse(body, "RequestPaymentConfiguration"), "Payer"))


def request_payment(config: opts.RequestPayment) -> bytes:
    return serialize(element("RequestPaymentConfiguration", leaf("Payer", config.payer)))


def parse_public_access_block(body: bytes) -> opts.PublicAccessBlock:
    root = parse(body, "PublicAccessBlockConfiguration")
    return opts.PublicAccessBlock(bool_of(root, "BlockPublicAccess") or False)


def public_access_block(config: opts.PublicAccessBlock) -> bytes:
    return serialize(
        element("PublicAccessBlockConfiguration", leaf("BlockPublicAccess", config.block_public_access))
    )


def parse_capacity(body: bytes) -> opts.StorageCapacity:
    root = parse(body, "BucketUserQos")
    return opts.check_capacity(int_value(required(root, "StorageCapacity"), "StorageCapacity"))


def capacity(config: opts.StorageCapacity) -> bytes:
    return serialize(element("BucketUserQos", leaf("StorageCapacity", config.gigabytes)))


# --- retention (WORM) --------------------------------------------------------------------


def parse_worm_days(body: bytes, root_name: str) -> int:
    root = parse(body, root_name)
    return int_value(required(root, "RetentionPeriodInDays"), "RetentionPeriodInDays")


def worm(config: WormConfiguration) -> bytes:
    root = element(
        "WormConfiguration",
        leaf("WormId", config.worm_id),
        leaf("State", config.state),
        leaf("RetentionPeriodInDays", config.retention_days),
        leaf("CreationDate", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(config.created_at))),
    )
    return serialize(root)
