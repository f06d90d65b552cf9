"""The two OSS request-signature schemes, as pure functions over plain values.

V1 (``OSS ak:sig``): base64 HMAC-SHA1 over verb, Content-MD5, Content-Type,
date, the ``x-oss-*`` headers and a canonical resource made of the *decoded*
``/bucket/key`` plus the sorted sub-resource parameters.

V4 (``OSS4-HMAC-SHA256``): hex HMAC-SHA256 over a string that hashes a
canonical request (URI-encoded path, every query parameter encoded and sorted,
the signed headers, the additional-header list and the payload hash), with a
key derived from the secret, the date, the region and the product.

Inputs are what the router hands over in :class:`SignableRequest`: a decoded
key, decoded query pairs and lower-cased header names.  Each scheme re-encodes
what it needs, so nothing here depends on how the client escaped its URL
(oss2 sends ``/`` in keys as ``%2F``, the other SDKs send it literally).

Everything was checked against oss2 2.19.1 ``oss2/auth.py``,
alibabacloud-oss-v2 1.4.1 ``signer/v1.py``/``signer/v4.py`` and ali-oss
``lib/common/signUtils.js``; the tests replay their vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

V4_ALGORITHM = "OSS4-HMAC-SHA256"
V4_TERMINATOR = "aliyun_v4_request"
V4_PRODUCT = "oss"
V4_SECRET_PREFIX = "aliyun_v4"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
CONTENT_SHA256_HEADER = "x-oss-content-sha256"

# --- V1 sub-resources ---------------------------------------------------------
# Only query parameters whose *name* is a sub-resource take part in a V1
# signature, and every SDK has its own idea of which names those are.  A
# request is accepted when it verifies under any of these sets (see
# ``V1_SUBRESOURCE_SETS``).

OSS2_SUBRESOURCES: frozenset[str] = frozenset(
    # oss2 2.19.1, oss2/auth.py ProviderAuth._subresource_key_set (verbatim).
    [
        "response-content-type", "response-content-language", "response-cache-control",
        "logging", "response-content-encoding", "acl", "uploadId", "uploads", "partNumber",
        "group", "link", "delete", "website", "location", "objectInfo", "objectMeta",
        "response-expires", "response-content-disposition", "cors", "lifecycle", "restore",
        "qos", "referer", "stat", "bucketInfo", "append", "position", "security-token", "live",
        "comp", "status", "vod", "startTime", "endTime", "x-oss-process", "symlink", "callback",
        "callback-var", "tagging", "encryption", "versions", "versioning", "versionId", "policy",
        "requestPayment", "x-oss-traffic-limit", "qosInfo", "asyncFetch", "x-oss-request-payer",
        "sequential", "inventory", "inventoryId", "continuation-token", "worm", "wormId",
        "wormExtend", "replication", "replicationLocation", "replicationProgress",
        "transferAcceleration", "cname", "metaQuery", "x-oss-ac-source-ip",
        "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow", "resourceGroup",
        "style", "styleName", "x-oss-async-process", "regionList",
        "x-oss-write-get-object-response", "bucketArchiveDirectRead", "httpsConfig",
        "redundancyTransition", "x-oss-target-redundancy-type",
        "x-oss-redundancy-transition-taskid", "accessPoint", "accessPointPolicy",
        "publicAccessBlock", "x-oss-access-point-name", "requesterQosInfo", "qosRequester",
        "resourcePoolInfo", "resourcePool", "resourcePoolBuckets",
    ]
)  # fmt: skip

V2_SUBRESOURCES: frozenset[str] = frozenset(
    # alibabacloud-oss-v2 1.4.1, signer/v1.py SignerV1._subresource_key_set (verbatim).
    [
        "acl", "bucketInfo", "location", "stat", "delete", "append", "tagging", "objectMeta",
        "uploads", "uploadId", "partNumber", "security-token", "position",
        "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "restore", "callback", "callback-var", "versions", "versioning", "versionId",
        "sequential", "continuation-token", "regionList", "cloudboxes", "symlink",
        "resourceGroup",
    ]
)  # fmt: skip

V2_OPERATION_SUBRESOURCES: frozenset[str] = frozenset(
    # alibabacloud-oss-v2 1.4.1 also signs, per operation, the names listed in
    # each operation's ``op_metadata['sub-resource']`` (e.g. PutBucketRTC signs
    # ``rtc``, PutBucketReplication ``replication`` and ``comp``).  This is the
    # union over all its operations; the static list above is always added.
    [
        "MetaQuery", "accessPoint", "accessPointPolicy", "action", "bucketArchiveDirectRead",
        "cleanRestoredObject", "cloudboxes", "cname", "comp", "cors", "dataPipeline",
        "encryption", "httpsConfig", "inventory", "inventoryId", "legalHold", "lifecycle",
        "logging", "metaQuery", "metadataConfiguration", "metadataInventoryTable",
        "metadataJournalTable", "objectWorm", "overwriteConfig", "policy", "policyStatus",
        "publicAccessBlock", "quota", "redundancyTransition", "referer", "replication",
        "replicationLocation", "replicationProgress", "requestPayment", "resourceGroup",
        "retention", "rtc", "seal", "style", "styleName", "tagging", "transferAcceleration",
        "userDefinedLogFieldsConfig", "website", "worm", "wormExtend", "wormId",
        "x-oss-access-point-name", "x-oss-redundancy-transition-taskid",
        "x-oss-target-redundancy-type",
    ]
)  # fmt: skip

ALI_OSS_SUBRESOURCES: frozenset[str] = frozenset(
    # ali-oss has no global list: every operation passes its own ``subres``
    # object to buildCanonicalizedResource (lib/common/signUtils.js), and
    # signatureUrl adds x-oss-process, x-oss-traffic-limit, response-*,
    # security-token, callback and callback-var.  These are the names its
    # operations use.
    [
        "acl", "append", "bucketInfo", "callback", "callback-var", "comp", "continuation-token",
        "cors", "delete", "encryption", "endTime", "inventory", "inventoryId", "lifecycle",
        "live", "location", "logging", "metaQuery", "objectMeta", "partNumber", "policy",
        "position", "referer", "requestPayment", "resourceGroup", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore",
        "security-token", "startTime", "stat", "status", "symlink", "tagging",
        "transferAcceleration", "uploadId", "uploads", "versionId", "versioning", "versions",
        "vod", "website", "worm", "wormExtend", "wormId", "x-oss-process",
        "x-oss-traffic-limit",
    ]
)  # fmt: skip

ALL_KNOWN_SUBRESOURCES: frozenset[str] = (
    OSS2_SUBRESOURCES | V2_SUBRESOURCES | V2_OPERATION_SUBRESOURCES | ALI_OSS_SUBRESOURCES
)

V1_SUBRESOURCE_SETS: tuple[frozenset[str], ...] = (
    OSS2_SUBRESOURCES,
    V2_SUBRESOURCES,
    V2_SUBRESOURCES | V2_OPERATION_SUBRESOURCES,
    ALI_OSS_SUBRESOURCES,
    ALL_KNOWN_SUBRESOURCES,
)
"""Candidate sub-resource sets, most common client first.

Accepting several sets weakens V1 slightly (a parameter only some SDKs sign
can be added by a man in the middle), but a parameter every SDK signs, such as
``acl``, still cannot be slipped in, and V1 cannot do better with SDKs that
disagree."""
_ANY_V1_SUBRESOURCE: frozenset[str] = frozenset().union(*V1_SUBRESOURCE_SETS)

V1_PRESIGN_PARAMS: frozenset[str] = frozenset(["OSSAccessKeyId", "Expires", "Signature"])
"""Query parameters that carry a V1 presigned signature and are never signed."""


# --- V1 -----------------------------------------------------------------------


def v1_canonical_resource(
    bucket: str | None,
    key: str | None,
    query: Iterable[tuple[str, str]],
    subresources: frozenset[str],
) -> str:
    """``/bucket/key?a&b=v``: decoded key, sub-resources sorted, bare name when empty."""
    path = "/" if bucket is None else f"/{bucket}/{key or ''}"
    pairs = sorted((k, v) for k, v in query if k in subresources and k not in V1_PRESIGN_PARAMS)
    if not pairs:
        return path
    return path + "?" + "&".join(f"{k}={v}" if v else k for k, v in pairs)


def v1_canonical_headers(headers: Mapping[str, str]) -> str:
    """Sorted ``x-oss-*`` headers as ``name:value\\n`` lines (empty when none)."""
    pairs = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-oss-"))
    return "".join(f"{k}:{v}\n" for k, v in pairs)


def v1_date(headers: Mapping[str, str]) -> str:
    """The date slot: ``x-oss-date`` wins over ``Date`` (all three SDKs agree)."""
    return headers.get("x-oss-date") or headers.get("date") or ""


def v1_string_to_sign(
    method: str,
    headers: Mapping[str, str],
    bucket: str | None,
    key: str | None,
    query: Iterable[tuple[str, str]],
    subresources: frozenset[str] = OSS2_SUBRESOURCES,
    date: str | None = None,
) -> str:
    """The V1 string to sign; ``date`` overrides the header date (presigned URLs put Expires there)."""
    return "\n".join(
        [
            method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            v1_date(headers) if date is None else date,
            v1_canonical_headers(headers) + v1_canonical_resource(bucket, key, query, subresources),
        ]
    )


def v1_string_to_sign_candidates(
    method: str,
    headers: Mapping[str, str],
    bucket: str | None,
    key: str | None,
    query: Sequence[tuple[str, str]],
    date: str | None = None,
) -> list[str]:
    """One string to sign per known sub-resource set, duplicates removed, order kept."""
    if not any(name in _ANY_V1_SUBRESOURCE for name, _ in query):
        # No parameter that any client signs: every set gives the same string.
        return [v1_string_to_sign(method, headers, bucket, key, query, V1_SUBRESOURCE_SETS[0], date)]
    seen: dict[str, None] = {}
    for subresources in V1_SUBRESOURCE_SETS:
        seen.setdefault(v1_string_to_sign(method, headers, bucket, key, query, subresources, date))
    return list(seen)


def v1_signature(secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 over the UTF-8 bytes (ali-oss hashes the same bytes via its encoder)."""
    digest = hmac.digest(secret.encode("utf-8"), string_to_sign.encode("utf-8"), "sha1")
    return base64.b64encode(digest).decode("ascii")


# --- V4 -----------------------------------------------------------------------

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def v4_uri_encode(text: str, keep_slash: bool) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes, upper-case hex.

    Same as oss2's ``__v4_uri_encode`` and v2's ``quote(..., safe='/' or '')``:
    only ``A-Za-z0-9-_.~`` (and ``/`` in paths) stay as they are, so a space is
    ``%20`` and ``+`` is ``%2B``.
    """
    out: list[str] = []
    for byte in text.encode("utf-8"):
        if byte in _UNRESERVED or (keep_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def v4_canonical_uri(bucket: str | None, key: str | None) -> str:
    """URI-encoded ``/bucket/key`` keeping ``/``; ``/bucket/`` or ``/`` above object level."""
    path = "/" if bucket is None else f"/{bucket}/{key or ''}"
    return v4_uri_encode(path, keep_slash=True)


def v4_canonical_query(query: Iterable[tuple[str, str]], exclude: frozenset[str] = frozenset()) -> str:
    """Every parameter encoded, sorted by encoded name then value, bare name when empty."""
    pairs = sorted(
        (v4_uri_encode(k, keep_slash=False), v4_uri_encode(v, keep_slash=False))
        for k, v in query
        if k not in exclude
    )
    return "&".join(f"{k}={v}" if v else k for k, v in pairs)


def is_v4_default_signed_header(name: str) -> bool:
    """Headers V4 always signs; listing them in AdditionalHeaders is redundant."""
    return name.startswith("x-oss-") or name in ("content-type", "content-md5")


def v4_canonical_headers(headers: Mapping[str, str], additional: Iterable[str]) -> str:
    """Sorted ``name:value\\n`` lines of the default signed headers plus the present additional ones."""
    extra = frozenset(additional)
    pairs = sorted(
        (name, value)
        for name, value in ((k.lower(), v) for k, v in headers.items())
        if is_v4_default_signed_header(name) or name in extra
    )
    return "".join(f"{k}:{v}\n" for k, v in pairs)


def normalize_additional_headers(names: Iterable[str]) -> list[str]:
    """Lower-cased, de-duplicated and sorted, as the canonical request lists them.

    oss2 sorts its ``AdditionalHeaders`` only by first character when writing
    the Authorization header but hashes the fully sorted list, so re-sorting
    here is what matches both SDKs.
    """
    return sorted({n.strip().lower() for n in names if n.strip()})


def v4_payload_hash(headers: Mapping[str, str]) -> str:
    """The ``x-oss-content-sha256`` header when sent, else ``UNSIGNED-PAYLOAD`` (both SDKs)."""
    return headers.get(CONTENT_SHA256_HEADER, UNSIGNED_PAYLOAD)


def v4_canonical_request(
    method: str,
    bucket: str | None,
    key: str | None,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    additional_headers: Sequence[str] = (),
    exclude_query: frozenset[str] = frozenset(),
) -> str:
    """Method, URI, query, headers, additional-header list and payload hash, one per line.

    ``additional_headers`` must already be normalised (see
    :func:`normalize_additional_headers`); ``exclude_query`` drops the
    ``x-oss-signature`` of a presigned URL, which cannot sign itself.
    """
    return "\n".join(
        [
            method,
            v4_canonical_uri(bucket, key),
            v4_canonical_query(query, exclude_query),
            v4_canonical_headers(headers, additional_headers),
            ";".join(additional_headers),
            v4_payload_hash(headers),
        ]
    )


def v4_scope(date: str, region: str, product: str = V4_PRODUCT) -> str:
    """``yyyymmdd/region/product/aliyun_v4_request``."""
    return f"{date}/{region}/{product}/{V4_TERMINATOR}"


def v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """Algorithm, ``x-oss-date`` timestamp, scope and hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return "\n".join([V4_ALGORITHM, timestamp, scope, digest])


def v4_signing_key(secret: str, date: str, region: str, product: str = V4_PRODUCT) -> bytes:
    """HMAC-SHA256 chain: ``aliyun_v4``+secret → date → region → product → terminator."""
    key = (V4_SECRET_PREFIX + secret).encode("utf-8")
    for part in (date, region, product, V4_TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign."""
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
