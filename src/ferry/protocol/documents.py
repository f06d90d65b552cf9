"""XML documents of the bucket and object APIs (responses, and the few request bodies)."""

from __future__ import annotations

import base64
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import quote

from ferry.core.bucket_options import DefaultEncryption, LoggingConfiguration
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectVersion
from ferry.core.names import check_version_id
from ferry.protocol.bucket_options_xml import encryption_info_element
from ferry.protocol.xmlcodec import children, element, leaf, parse, serialize, text_of
from ferry.service.buckets import BucketPage
from ferry.service.listing import ObjectPage
from ferry.service.objects import DeleteOutcome
from ferry.service.version_listing import VersionPage
from ferry.storage.interfaces import BucketStats
from ferry.storage.sqlite_usage import ClassUsage


def iso8601(ts: float) -> str:
    """OSS's ISO 8601 form, e.g. ``2024-05-01T08:42:32.000Z``.

    OSS always writes ``.000``, and oss2's parser accepts nothing else.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


@dataclass(frozen=True)
class Endpoints:
    extranet: str
    intranet: str


def _owner(owner_id: str) -> ET.Element:
    return element("Owner", leaf("ID", owner_id), leaf("DisplayName", owner_id))


def list_buckets(
    page: BucketPage, owner_id: str, prefix: str, marker: str, max_keys: int, endpoints: Endpoints
) -> bytes:
    buckets = element(
        "Buckets",
        *(
            element(
                "Bucket",
                leaf("CreationDate", iso8601(b.created_at)),
                leaf("ExtranetEndpoint", endpoints.extranet),
                leaf("IntranetEndpoint", endpoints.intranet),
                leaf("Location", b.region),
                leaf("Name", b.name),
                leaf("Region", b.region.removeprefix("oss-")),
                leaf("StorageClass", b.storage_class.value),
            )
            for b in page.buckets
        ),
    )
    root = element(
        "ListAllMyBucketsResult",
        leaf("Prefix", prefix),
        leaf("Marker", marker),
        leaf("MaxKeys", max_keys),
        leaf("IsTruncated", page.truncated),
        leaf("NextMarker", page.next_marker) if page.truncated else None,
        _owner(owner_id),
        buckets,
    )
    return serialize(root)


def bucket_info(
    bucket: Bucket,
    endpoints: Endpoints,
    cross_region_replication: bool,
    encryption: DefaultEncryption | None = None,
    logging: LoggingConfiguration | None = None,
) -> bytes:
    root = element(
        "BucketInfo",
        element(
            "Bucket",
            leaf("AccessMonitor", "Disabled"),
            leaf("CreationDate", iso8601(bucket.created_at)),
            leaf("ExtranetEndpoint", endpoints.extranet),
            leaf("IntranetEndpoint", endpoints.intranet),
            leaf("Location", bucket.region),
            leaf("StorageClass", bucket.storage_class.value),
            leaf("TransferAcceleration", "Disabled"),
            leaf("CrossRegionReplication", "Enabled" if cross_region_replication else "Disabled"),
            leaf("Name", bucket.name),
            leaf("ResourceGroupId", ""),
            _owner(bucket.owner_id),
            element("AccessControlList", leaf("Grant", bucket.acl.value)),
            encryption_info_element(encryption),
            element(
                "BucketPolicy",
                leaf("LogBucket", logging.target_bucket if logging else ""),
                leaf("LogPrefix", logging.target_prefix if logging else ""),
            ),
            leaf("Comment", ""),
            leaf("Versioning", bucket.versioning.value) if bucket.versioning.value else None,
            leaf("DataRedundancyType", bucket.data_redundancy),
        ),
    )
    return serialize(root)


def bucket_location(bucket: Bucket) -> bytes:
    return serialize(element("LocationConstraint", text=bucket.region))


_STAT_CLASSES = (
    ("Standard", "Standard", False),
    ("IA", "InfrequentAccess", True),
    ("Archive", "Archive", True),
    ("ColdArchive", "ColdArchive", True),
    ("DeepColdArchive", "DeepColdArchive", True),
)


def bucket_stat(stats: BucketStats, by_class: Mapping[str, ClassUsage] | None = None) -> bytes:
    """``by_class``: usage per storage class (None: everything counts as Standard)."""
    if by_class is None:
        by_class = {"Standard": ClassUsage(stats.object_count, stats.storage_bytes)}
    per_class: list[ET.Element | None] = []
    for storage_class, name, has_real in _STAT_CLASSES:
        usage = by_class.get(storage_class, ClassUsage(0, 0))
        per_class.append(leaf(f"{name}Storage", usage.bytes))
        if has_real:
            # Ferry stores no minimum billable size: the real storage is the storage.
            per_class.append(leaf(f"{name}RealStorage", usage.bytes))
        per_class.append(leaf(f"{name}ObjectCount", usage.objects))
    root = element(
        "BucketStat",
        leaf("Storage", stats.storage_bytes),
        leaf("ObjectCount", stats.object_count),
        leaf("MultipartUploadCount", stats.multipart_upload_count),
        leaf("LiveChannelCount", 0),
        leaf("LastModifiedTime", int(stats.last_modified)),
        *per_class,
    )
    return serialize(root)


def acl_policy(owner_id: str, grant: str) -> bytes:
    root = element(
        "AccessControlPolicy",
        _owner(owner_id),
        element("AccessControlList", leaf("Grant", grant)),
    )
    return serialize(root)


def versioning_configuration(status: str) -> bytes:
    return serialize(element("VersioningConfiguration", leaf("Status", status) if status else None))


def parse_versioning(body: bytes) -> str:
    status = text_of(parse(body, "VersioningConfiguration"), "Status")
    if status not in ("Enabled", "Suspended"):
        raise OssError("MalformedXML", "Status must be Enabled or Suspended.")
    return status


def empty_live_channels(prefix: str, marker: str, max_keys: int) -> bytes:
    return serialize(
        element(
            "ListLiveChannelResult",
            leaf("Prefix", prefix),
            leaf("Marker", marker),
            leaf("MaxKeys", max_keys),
            leaf("IsTruncated", False),
            leaf("NextMarker", ""),
        )
    )


NO_RESTORES: Mapping[int, str] = MappingProxyType({})


def _enc(value: str, url: bool) -> str:
    return quote(value, safe="") if url else value


def _contents(v: ObjectVersion, url: bool, with_owner: bool, restores: Mapping[int, str]) -> ET.Element:
    restore_info = restores.get(v.seq) if restores else None
    return element(
        "Contents",
        leaf("Key", _enc(v.key, url)),
        leaf("LastModified", iso8601(v.created_at)),
        leaf("ETag", quoted_etag(v.etag)),
        leaf("Type", v.object_type.value),
        leaf("Size", v.size),
        leaf("StorageClass", v.storage_class.value),
        _owner(v.owner_id) if with_owner else None,
        leaf("RestoreInfo", restore_info) if restore_info is not None else None,
    )


def continuation_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def parse_continuation_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise OssError("InvalidArgument", "The continuation token is not valid.") from None


@dataclass(frozen=True)
class ListParams:
    bucket: str
    prefix: str
    delimiter: str
    max_keys: int
    url_encoding: bool


def list_objects_v1(
    params: ListParams, marker: str, page: ObjectPage, restores: Mapping[int, str] = NO_RESTORES
) -> bytes:
    """``restores``: the ``RestoreInfo`` of the entries that have one, by seq."""
    url = params.url_encoding
    root = element(
        "ListBucketResult",
        leaf("Name", params.bucket),
        leaf("Prefix", _enc(params.prefix, url)),
        leaf("Marker", _enc(marker, url)),
        leaf("MaxKeys", params.max_keys),
        leaf("Delimiter", _enc(params.delimiter, url)),
        leaf("EncodingType", "url") if url else None,
        leaf("IsTruncated", page.truncated),
        leaf("NextMarker", _enc(page.next_marker, url)) if page.truncated else None,
        *(_contents(v, url, True, restores) for v in page.objects),
        *(element("CommonPrefixes", leaf("Prefix", _enc(p, url))) for p in page.common_prefixes),
    )
    return serialize(root)


def list_objects_v2(
    params: ListParams,
    token: str | None,
    start_after: str,
    fetch_owner: bool,
    page: ObjectPage,
    restores: Mapping[int, str] = NO_RESTORES,
) -> bytes:
    url = params.url_encoding
    root = element(
        "ListBucketResult",
        leaf("Name", params.bucket),
        leaf("Prefix", _enc(params.prefix, url)),
        leaf("StartAfter", _enc(start_after, url)) if start_after else None,
        leaf("ContinuationToken", token) if token else None,
        leaf("MaxKeys", params.max_keys),
        leaf("Delimiter", _enc(params.delimiter, url)),
        leaf("EncodingType", "url") if url else None,
        leaf("IsTruncated", page.truncated),
        leaf("NextContinuationToken", continuation_token(page.next_marker)) if page.truncated else None,
        leaf("KeyCount", len(page.objects) + len(page.common_prefixes)),
        *(_contents(v, url, fetch_owner, restores) for v in page.objects),
        *(element("CommonPrefixes", leaf("Prefix", _enc(p, url))) for p in page.common_prefixes),
    )
    return serialize(root)


def list_versions(
    params: ListParams,
    key_marker: str,
    version_marker: str,
    page: VersionPage,
    restores: Mapping[int, str] = NO_RESTORES,
) -> bytes:
    url = params.url_encoding
    entries = []
    for v in page.versions:
        if v.is_delete_marker:
            entries.append(
                element(
                    "DeleteMarker",
                    leaf("Key", _enc(v.key, url)),
                    leaf("VersionId", v.version_id),
                    leaf("IsLatest", v.is_latest),
                    leaf("LastModified", iso8601(v.created_at)),
                    _owner(v.owner_id),
                )
            )
        else:
            entries.append(
                element(
                    "Version",
                    leaf("Key", _enc(v.key, url)),
                    leaf("VersionId", v.version_id),
                    leaf("IsLatest", v.is_latest),
                    leaf("LastModified", iso8601(v.created_at)),
                    leaf("ETag", quoted_etag(v.etag)),
                    leaf("Type", v.object_type.value),
                    leaf("Size", v.size),
                    leaf("StorageClass", v.storage_class.value),
                    _owner(v.owner_id),
                    leaf("RestoreInfo", restores[v.seq]) if v.seq in restores else None,
                )
            )
    root = element(
        "ListVersionsResult",
        leaf("Name", params.bucket),
        leaf("Prefix", _enc(params.prefix, url)),
        leaf("KeyMarker", _enc(key_marker, url)),
        leaf("VersionIdMarker", version_marker),
        leaf("MaxKeys", params.max_keys),
        leaf("Delimiter", _enc(params.delimiter, url)),
        leaf("EncodingType", "url") if url else None,
        leaf("IsTruncated", page.truncated),
        leaf("NextKeyMarker", _enc(page.next_key_marker, url)) if page.truncated else None,
        leaf("NextVersionIdMarker", page.next_version_marker) if page.truncated else None,
        *entries,
        *(element("CommonPrefixes", leaf("Prefix", _enc(p, url))) for p in page.common_prefixes),
    )
    return serialize(root)


MAX_TAGS = 10


_TAG_TEXT = re.compile(r"^[\w +\-=.:/]*$")
"""Letters and digits of any script, spaces, and ``+ - = . _ : /``: what OSS accepts in tags."""


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise OssError("InvalidArgument", f"An object can have at most {MAX_TAGS} tags.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise OssError("InvalidArgument", "A tag key is 1-128 and a value 0-256 characters long.")
        if not _TAG_TEXT.match(key) or not _TAG_TEXT.match(value):
            raise OssError(
                "InvalidArgument", "A tag may hold letters, digits, spaces and + - = . _ : / only."
            )
    return tags


def parse_tagging(body: bytes) -> dict[str, str]:
    root = parse(body, "Tagging")
    tags: dict[str, str] = {}
    tag_set = root.find("TagSet")
    for tag in children(tag_set, "Tag") if tag_set is not None else ():
        key = text_of(tag, "Key", strip=False)
        if key is None or key in tags:
            raise OssError("InvalidArgument", "Every Tag needs one Key, and keys must be unique.")
        tags[key] = text_of(tag, "Value", strip=False) or ""
    return check_tags(tags)


def tagging(tags: Mapping[str, str]) -> bytes:
    tag_elements = (element("Tag", leaf("Key", k), leaf("Value", v)) for k, v in tags.items())
    return serialize(element("Tagging", element("TagSet", *tag_elements)))


@dataclass(frozen=True)
class DeleteRequest:
    quiet: bool
    targets: list[tuple[str, str | None]]
    url_encoded: bool


MAX_DELETE_KEYS = 1000


def parse_delete_request(body: bytes, encoding_type: str | None) -> DeleteRequest:
    root = parse(body, "Delete")
    quiet = (text_of(root, "Quiet") or "false").lower() == "true"
    targets: list[tuple[str, str | None]] = []
    for node in children(root, "Object"):
        key = text_of(node, "Key", strip=False)
        if not key:
            raise OssError("MalformedXML", "Every Object needs a Key.")
        # encoding-type=url encodes the keys of the *answer* only: oss2, v2 and ali-oss
        # send it on every request with the keys merely XML-escaped in the body.
        version_id = text_of(node, "VersionId") or None
        if version_id is not None:
            check_version_id(version_id)
        targets.append((key, version_id))
    if not targets:
        raise OssError("MalformedXML", "The Delete document names no Object.")
    if len(targets) > MAX_DELETE_KEYS:
        raise OssError("MalformedXML", f"At most {MAX_DELETE_KEYS} objects can be deleted at once.")
    return DeleteRequest(quiet, targets, encoding_type == "url")


def delete_result(outcomes: Sequence[DeleteOutcome], quiet: bool, url: bool) -> bytes:
    deleted = []
    if not quiet:
        for o in outcomes:
            deleted.append(
                element(
                    "Deleted",
                    leaf("Key", _enc(o.key, url)),
                    leaf("VersionId", o.version_id) if o.version_id else None,
                    leaf("DeleteMarker", True) if o.delete_marker else None,
                    leaf("DeleteMarkerVersionId", o.delete_marker_version_id)
                    if o.delete_marker_version_id
                    else None,
                )
            )
    root = element("DeleteResult", leaf("EncodingType", "url") if url else None, *deleted)
    return serialize(root)


def copy_result(version: ObjectVersion) -> bytes:
    return serialize(
        element(
            "CopyObjectResult",
            leaf("ETag", quoted_etag(version.etag)),
            leaf("LastModified", iso8601(version.created_at)),
        )
    )


def error_document(code: str, message: str, request_id: str, host_id: str, details: dict[str, str]) -> bytes:
    root = element(
        "Error",
        leaf("Code", code),
        leaf("Message", message),
        leaf("RequestId", request_id),
        leaf("HostId", host_id),
        *(leaf(name, value) for name, value in details.items()),
    )
    return serialize(root)
