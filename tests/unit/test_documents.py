"""Ferry's XML documents read back by the real SDK parsers, offline.

oss2: ``xml_utils.parse_*`` into the ``oss2.models`` result class, as
``oss2.api._Base._parse_result`` does it.  alibabacloud-oss-v2: the SDK's own
operation function (``operations.*``) with a client whose ``invoke_operation``
returns Ferry's bytes, so the operation's full deserializer chain runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from alibabacloud_oss_v2 import operations as v2ops
from alibabacloud_oss_v2.types import CaseInsensitiveDict, OperationInput, OperationOutput
from oss2 import models as m2
from oss2 import xml_utils
from requests.structures import CaseInsensitiveDict as RequestsHeaders

from ferry.core.errors import OssError
from ferry.core.model import Bucket, BucketAcl, ObjectVersion, StorageClass, Versioning
from ferry.protocol import documents as docs
from ferry.service.buckets import BucketPage
from ferry.service.listing import ObjectPage
from ferry.service.objects import DeleteOutcome
from ferry.storage.interfaces import BucketStats

T = TypeVar("T")

CREATED = 1_714_552_952.0  # 2024-05-01T08:42:32Z
CREATED_ISO = "2024-05-01T08:42:32.000Z"
CREATED_DT = dt.datetime(2024, 5, 1, 8, 42, 32, tzinfo=dt.UTC)
OWNER = "1234567890123456"
ENDPOINTS = docs.Endpoints(extranet="http://127.0.0.1:9100", intranet="http://127.0.0.1:9100")
ETAG = "5EB63BBBE01EEED093CB22BB8F5ACDC3"
ODD_KEYS = ["plain.txt", "dir/sub/file", "with space", "plus+sign", "100%", "ünï/文件", "q?&x=y#f", "<a>&'\""]


# --- the two SDKs' parsers, offline ------------------------------------------


class _FakeOss2Response:
    def __init__(self, body: bytes) -> None:
        self.status = 200
        self.headers = RequestsHeaders({"x-oss-request-id": "A" * 24})
        self.request_id = "A" * 24
        self._body = body

    def read(self, amt: int | None = None) -> bytes:
        body, self._body = self._body, b""
        return body


def oss2_parse(parse: Callable[[Any, bytes], Any], klass: Callable[[Any], T], body: bytes) -> T:
    """What oss2.api._Base._parse_result does with a response."""
    resp = _FakeOss2Response(body)
    result = klass(resp)
    parse(result, resp.read())
    return result


class _FakeHttpResponse:
    def __init__(self, body: bytes) -> None:
        self.content = body
        self.status_code = 200

    def close(self) -> None:
        pass


class _FakeV2Client:
    """Stands in for the SDK's client: answers every operation with the given body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent: OperationInput | None = None

    def invoke_operation(self, op_input: OperationInput, **kwargs: Any) -> OperationOutput:
        self.sent = op_input
        headers = CaseInsensitiveDict({"x-oss-request-id": "A" * 24, "Content-Type": "application/xml"})
        return OperationOutput(
            status="OK",
            status_code=200,
            headers=headers,
            http_response=_FakeHttpResponse(self.body),  # type: ignore[arg-type]
            op_input=op_input,
        )


def v2_call(operation: Callable[..., T], request: Any, body: bytes) -> T:
    return operation(_FakeV2Client(body), request)


# --- fixtures of domain values -----------------------------------------------


def version(
    key: str, size: int = 11, etag: str = ETAG, storage_class: StorageClass = StorageClass.STANDARD
) -> ObjectVersion:
    return ObjectVersion(
        bucket="bkt",
        key=key,
        version_id="null",
        seq=1,
        created_at=CREATED,
        is_latest=True,
        is_delete_marker=False,
        size=size,
        etag=etag,
        storage_class=storage_class,
        owner_id=OWNER,
    )


def bucket(name: str, region: str = "oss-cn-hangzhou", **kw: Any) -> Bucket:
    return Bucket(name=name, owner_id=OWNER, region=region, created_at=CREATED, **kw)


# --- ListBuckets ---------------------------------------------------------------


def test_list_buckets_oss2_and_v2() -> None:
    page = BucketPage(
        [bucket("alpha"), bucket("beta", "oss-cn-beijing", storage_class=StorageClass.IA)],
        truncated=True,
        next_marker="beta",
    )
    body = docs.list_buckets(page, OWNER, "a", "m", 2, ENDPOINTS)

    r1 = oss2_parse(xml_utils.parse_list_buckets, m2.ListBucketsResult, body)
    assert r1.is_truncated is True
    assert r1.next_marker == "beta"
    assert (r1.owner.id, r1.owner.display_name) == (OWNER, OWNER)
    assert [b.name for b in r1.buckets] == ["alpha", "beta"]
    assert [b.location for b in r1.buckets] == ["oss-cn-hangzhou", "oss-cn-beijing"]
    assert [b.region for b in r1.buckets] == ["cn-hangzhou", "cn-beijing"]
    assert [b.storage_class for b in r1.buckets] == ["Standard", "IA"]
    assert all(b.creation_date == int(CREATED) for b in r1.buckets)
    assert all(b.extranet_endpoint == "http://127.0.0.1:9100" for b in r1.buckets)
    assert all(b.intranet_endpoint == "http://127.0.0.1:9100" for b in r1.buckets)

    r2 = v2_call(v2ops.list_buckets, oss.ListBucketsRequest(), body)
    assert (r2.prefix, r2.marker, r2.max_keys, r2.is_truncated, r2.next_marker) == ("a", "m", 2, True, "beta")
    assert r2.owner.id == OWNER
    assert [b.name for b in r2.buckets] == ["alpha", "beta"]
    assert [b.location for b in r2.buckets] == ["oss-cn-hangzhou", "oss-cn-beijing"]
    assert all(b.creation_date == CREATED_DT for b in r2.buckets)
    assert r2.buckets[1].storage_class == "IA"
    assert r2.buckets[0].extranet_endpoint == "http://127.0.0.1:9100"


def test_list_buckets_not_truncated_has_no_next_marker() -> None:
    body = docs.list_buckets(BucketPage([], False, ""), OWNER, "", "", 100, ENDPOINTS)
    r1 = oss2_parse(xml_utils.parse_list_buckets, m2.ListBucketsResult, body)
    assert r1.is_truncated is False
    assert r1.buckets == []
    r2 = v2_call(v2ops.list_buckets, oss.ListBucketsRequest(), body)
    assert r2.is_truncated is False
    assert r2.next_marker is None


# --- GetBucketInfo / Stat / Acl / Location / Versioning --------------------------------


@pytest.mark.parametrize("versioning", [Versioning.OFF, Versioning.ENABLED, Versioning.SUSPENDED])
def test_bucket_info(versioning: Versioning) -> None:
    b = bucket("bkt", acl=BucketAcl.PUBLIC_READ, storage_class=StorageClass.ARCHIVE, versioning=versioning)
    body = docs.bucket_info(b, ENDPOINTS, cross_region_replication=True)

    r1 = oss2_parse(xml_utils.parse_get_bucket_info, m2.GetBucketInfoResult, body)
    assert r1.name == "bkt"
    assert r1.creation_date == CREATED_ISO
    assert r1.storage_class == "Archive"
    assert r1.location == "oss-cn-hangzhou"
    assert r1.extranet_endpoint == ENDPOINTS.extranet
    assert r1.intranet_endpoint == ENDPOINTS.intranet
    assert (r1.owner.id, r1.owner.display_name) == (OWNER, OWNER)
    assert r1.acl.grant == "public-read"
    assert r1.versioning_status == (versioning.value or None)
    assert r1.cross_region_replication == "Enabled"
    assert r1.data_redundancy_type == "LRS"
    assert r1.bucket_encryption_rule.sse_algorithm is None

    r2 = v2_call(v2ops.get_bucket_info, oss.GetBucketInfoRequest(bucket="bkt"), body)
    info = r2.bucket_info
    assert info.name == "bkt"
    assert info.creation_date == CREATED_DT
    assert info.location == "oss-cn-hangzhou"
    assert info.acl == "public-read"
    assert info.owner.id == OWNER
    assert info.storage_class == "Archive"
    assert info.versioning == (versioning.value or None)
    assert info.extranet_endpoint == ENDPOINTS.extranet
    assert info.cross_region_replication == "Enabled"


def test_bucket_stat() -> None:
    stats = BucketStats(object_count=7, storage_bytes=12345, multipart_upload_count=2, last_modified=CREATED)
    body = docs.bucket_stat(stats)
    r1 = oss2_parse(xml_utils.parse_get_bucket_stat, m2.GetBucketStatResult, body)
    assert r1.storage_size_in_bytes == 12345
    assert r1.object_count == 7
    assert r1.multi_part_upload_count == 2
    assert r1.last_modified_time == int(CREATED)
    assert r1.standard_storage == 12345
    assert r1.standard_object_count == 7
    assert r1.live_channel_count == 0
    r2 = v2_call(v2ops.get_bucket_stat, oss.GetBucketStatRequest(bucket="bkt"), body)
    assert (r2.storage, r2.object_count, r2.multi_part_upload_count) == (12345, 7, 2)
    assert r2.last_modified_time == int(CREATED)
    assert (r2.standard_storage, r2.standard_object_count) == (12345, 7)
    assert r2.archive_object_count == 0


@pytest.mark.parametrize("grant", ["private", "public-read", "public-read-write", "default"])
def test_acl_policy(grant: str) -> None:
    body = docs.acl_policy(OWNER, grant)
    r1 = oss2_parse(xml_utils.parse_get_bucket_acl, m2.GetBucketAclResult, body)
    assert r1.acl == grant
    r1o = oss2_parse(xml_utils.parse_get_object_acl, m2.GetObjectAclResult, body)
    assert r1o.acl == grant
    r2 = v2_call(v2ops.get_bucket_acl, oss.GetBucketAclRequest(bucket="bkt"), body)
    assert r2.acl == grant
    assert r2.owner.id == OWNER
    r2o = v2_call(v2ops.get_object_acl, oss.GetObjectAclRequest(bucket="bkt", key="k"), body)
    assert r2o.acl == grant


def test_bucket_location() -> None:
    body = docs.bucket_location(bucket("bkt", "oss-cn-beijing"))
    r1 = oss2_parse(xml_utils.parse_get_bucket_location, m2.GetBucketLocationResult, body)
    assert r1.location == "oss-cn-beijing"
    r2 = v2_call(v2ops.get_bucket_location, oss.GetBucketLocationRequest(bucket="bkt"), body)
    assert r2.location == "oss-cn-beijing"


@pytest.mark.parametrize(
    ("status", "expected"), [("Enabled", "Enabled"), ("Suspended", "Suspended"), ("", None)]
)
def test_versioning_configuration(status: str, expected: str | None) -> None:
    body = docs.versioning_configuration(status)
    r1 = oss2_parse(xml_utils.parse_get_bucket_versioning, m2.GetBucketVersioningResult, body)
    assert r1.status == expected
    r2 = v2_call(v2ops.get_bucket_versioning, oss.GetBucketVersioningRequest(bucket="bkt"), body)
    assert r2.version_status == expected


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_parse_versioning_reads_what_both_sdks_send(status: str) -> None:
    config = m2.BucketVersioningConfig()
    config.status = status
    assert docs.parse_versioning(xml_utils.to_put_bucket_versioning(config)) == status
    client = _FakeV2Client(b"")
    v2ops.put_bucket_versioning(
        client,  # type: ignore[arg-type]
        oss.PutBucketVersioningRequest(
            bucket="bkt", versioning_configuration=oss.VersioningConfiguration(status=status)
        ),
    )
    assert client.sent is not None
    assert docs.parse_versioning(_body_bytes(client.sent)) == status


@pytest.mark.parametrize(
    "body",
    [
        b"<VersioningConfiguration/>",
        b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
    ],
)
def test_parse_versioning_rejects_other_status(body: bytes) -> None:
    with pytest.raises(OssError) as info:
        docs.parse_versioning(body)
    assert info.value.code == "MalformedXML"


# --- ListObjects v1 / v2 ------------------------------------------------------------


def _params(url: bool, prefix: str = "", delimiter: str = "/", max_keys: int = 100) -> docs.ListParams:
    return docs.ListParams(
        bucket="bkt", prefix=prefix, delimiter=delimiter, max_keys=max_keys, url_encoding=url
    )


def _page(keys: list[str], prefixes: list[str], truncated: bool = True) -> ObjectPage:
    objects = [
        version(k, size=i, storage_class=StorageClass.IA if i % 2 else StorageClass.STANDARD)
        for i, k in enumerate(keys)
    ]
    last = max(keys + prefixes) if truncated else ""
    return ObjectPage(objects, prefixes, truncated, last)


@pytest.mark.parametrize("url", [True, False])
def test_list_objects_v1(url: bool) -> None:
    keys = [k for k in ODD_KEYS if "/" not in k]
    prefixes = ["dir/", "ünï/", "a b/"]
    page = _page(keys, prefixes)
    body = docs.list_objects_v1(_params(url, prefix=""), "marker key", page)

    r1 = oss2_parse(xml_utils.parse_list_objects, m2.ListObjectsResult, body)
    assert [o.key for o in r1.object_list] == keys
    assert r1.prefix_list == prefixes
    assert r1.is_truncated is True
    assert r1.next_marker == page.next_marker
    for i, o in enumerate(r1.object_list):
        assert o.etag == ETAG  # oss2 strips the quotes
        assert o.size == i
        assert o.last_modified == int(CREATED)
        assert o.type == "Normal"
        assert o.storage_class == ("IA" if i % 2 else "Standard")
        assert o.owner.id == OWNER

    r2 = v2_call(v2ops.list_objects, oss.ListObjectsRequest(bucket="bkt"), body)
    assert [o.key for o in r2.contents] == keys
    assert [p.prefix for p in r2.common_prefixes] == prefixes
    assert r2.name == "bkt"
    assert r2.marker == "marker key"  # v2 url-decodes the top-level fields too
    assert r2.delimiter == "/"
    assert (r2.is_truncated, r2.max_keys) == (True, 100)
    assert r2.encoding_type == ("url" if url else None)
    for i, o in enumerate(r2.contents):
        assert o.etag == f'"{ETAG}"'  # v2 keeps the quotes, as from OSS itself
        assert o.size == i
        assert o.last_modified == CREATED_DT
        assert o.object_type == "Normal"
        assert o.owner.id == OWNER


def test_list_objects_v1_url_encoding_encodes_every_key_field() -> None:
    page = ObjectPage([version("a&b c/é")], ["p q/"], True, "p q/")
    body = docs.list_objects_v1(_params(True, prefix="a&", delimiter="/"), "m n", page)
    text = body.decode()
    assert "<EncodingType>url</EncodingType>" in text
    assert "a&b c" not in text and "a&amp;b c" not in text
    r1 = oss2_parse(xml_utils.parse_list_objects, m2.ListObjectsResult, body)
    assert [o.key for o in r1.object_list] == ["a&b c/é"]
    assert r1.prefix_list == ["p q/"]
    assert r1.next_marker == "p q/"


@pytest.mark.parametrize("url", [True, False])
def test_list_objects_v2(url: bool) -> None:
    keys = ["a b", "plus+sign", "文件", "%41"]
    prefixes = ["d/"]
    page = _page(keys, prefixes)
    token = docs.continuation_token("start here")
    body = docs.list_objects_v2(_params(url, prefix=""), token, "s a", True, page)

    r1 = oss2_parse(xml_utils.parse_list_objects_v2, m2.ListObjectsV2Result, body)
    assert [o.key for o in r1.object_list] == keys
    assert r1.prefix_list == prefixes
    assert r1.is_truncated is True
    assert docs.parse_continuation_token(r1.next_continuation_token) == page.next_marker
    assert [o.etag for o in r1.object_list] == [ETAG] * len(keys)
    assert [o.size for o in r1.object_list] == list(range(len(keys)))
    assert all(o.owner is not None and o.owner.id == OWNER for o in r1.object_list)

    r2 = v2_call(v2ops.list_objects_v2, oss.ListObjectsV2Request(bucket="bkt"), body)
    assert [o.key for o in r2.contents] == keys
    assert [p.prefix for p in r2.common_prefixes] == prefixes
    assert r2.key_count == len(keys) + len(prefixes)
    assert r2.continuation_token == token
    assert docs.parse_continuation_token(r2.next_continuation_token) == page.next_marker
    assert r2.start_after == "s a"
    assert all(o.last_modified == CREATED_DT for o in r2.contents)


def test_list_objects_v2_without_fetch_owner_has_no_owner() -> None:
    body = docs.list_objects_v2(_params(False), None, "", False, _page(["k"], [], truncated=False))
    r1 = oss2_parse(xml_utils.parse_list_objects_v2, m2.ListObjectsV2Result, body)
    assert r1.object_list[0].owner is None
    assert r1.is_truncated is False
    r2 = v2_call(v2ops.list_objects_v2, oss.ListObjectsV2Request(bucket="bkt"), body)
    assert r2.contents[0].owner is None
    assert r2.next_continuation_token is None
    assert r2.continuation_token is None


@pytest.mark.parametrize("key", [*ODD_KEYS, "\U0001f600", "tab\tkey", "~._-"])
def test_continuation_token_round_trip(key: str) -> None:
    token = docs.continuation_token(key)
    assert quote(token, safe="") == token.replace("=", "%3D")  # URL-safe alphabet
    assert docs.parse_continuation_token(token) == key


def test_bad_continuation_token() -> None:
    with pytest.raises(OssError) as info:
        docs.parse_continuation_token("\xff\xfe-not-base64")
    assert info.value.code == "InvalidArgument"


# --- DeleteMultipleObjects ------------------------------------------------------


@pytest.mark.parametrize("url", [True, False])
def test_delete_result(url: bool) -> None:
    outcomes = [
        DeleteOutcome("a b", None, False),
        DeleteOutcome("v/1", "CAEQv1", False),
        DeleteOutcome("m&<", "CAEQm", True, "CAEQm"),
    ]
    body = docs.delete_result(outcomes, quiet=False, url=url)
    r1 = oss2_parse(xml_utils.parse_batch_delete_objects, m2.BatchDeleteObjectsResult, body)
    assert r1.deleted_keys == ["a b", "v/1", "m&<"]
    assert [d.versionid for d in r1.delete_versions] == ["", "CAEQv1", "CAEQm"]  # oss2: None -> ""
    assert [d.delete_marker for d in r1.delete_versions] == [False, False, True]
    assert [d.delete_marker_versionid for d in r1.delete_versions] == ["", "", "CAEQm"]

    request = oss.DeleteMultipleObjectsRequest(bucket="bkt", objects=[oss.DeleteObject(key="x")])
    r2 = v2_call(v2ops.delete_multiple_objects, request, body)
    assert [d.key for d in r2.deleted_objects] == ["a b", "v/1", "m&<"]
    assert [d.version_id for d in r2.deleted_objects] == [None, "CAEQv1", "CAEQm"]
    assert r2.deleted_objects[2].delete_marker is True
    assert r2.deleted_objects[2].delete_marker_version_id == "CAEQm"


def test_quiet_delete_result_lists_nothing() -> None:
    body = docs.delete_result([DeleteOutcome("k", None, False)], quiet=True, url=False)
    r1 = oss2_parse(xml_utils.parse_batch_delete_objects, m2.BatchDeleteObjectsResult, body)
    assert r1.deleted_keys == []


def _body_bytes(op_input: OperationInput) -> bytes:
    body = op_input.body
    if isinstance(body, str):
        return body.encode()
    assert isinstance(body, bytes | bytearray)
    return bytes(body)


def test_parse_delete_request_from_oss2() -> None:
    keys = ["a", "with space", " lead", "trail ", "ünï/文件", "<&>"]
    body = xml_utils.to_batch_delete_objects_request(keys, True)
    request = docs.parse_delete_request(body, None)
    assert request.quiet is True
    assert request.targets == [(k, None) for k in keys]
    assert request.url_encoded is False
    versions = m2.BatchDeleteObjectVersionList(
        [m2.BatchDeleteObjectVersion("k1", "CAEQ1"), m2.BatchDeleteObjectVersion("k2")]
    )
    request = docs.parse_delete_request(
        xml_utils.to_batch_delete_objects_version_request(versions, False), None
    )
    assert request.quiet is False
    assert request.targets == [("k1", "CAEQ1"), ("k2", None)]


def test_parse_delete_request_from_v2() -> None:
    client = _FakeV2Client(b"")
    objects = [oss.DeleteObject(key=" spaced key "), oss.DeleteObject(key="v", version_id="CAEQv")]
    v2ops.delete_multiple_objects(
        client,  # type: ignore[arg-type]
        oss.DeleteMultipleObjectsRequest(bucket="bkt", objects=objects, quiet=True),
    )
    assert client.sent is not None
    request = docs.parse_delete_request(_body_bytes(client.sent), None)
    assert request.quiet is True
    assert request.targets == [(" spaced key ", None), ("v", "CAEQv")]


def _delete_body(*keys: str, quiet: str | None = None) -> bytes:
    q = f"<Quiet>{quiet}</Quiet>" if quiet is not None else ""
    objects = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f'<?xml version="1.0" encoding="UTF-8"?><Delete>{q}{objects}</Delete>'.encode()


def test_parse_delete_request_url_encoding_is_for_the_answer_only() -> None:
    # oss2, v2 and ali-oss send encoding-type=url with raw keys: decoding them would delete other keys.
    body = _delete_body("a%20b", "dir%2Ffile", "%E6%96%87", "100%25")
    request = docs.parse_delete_request(body, "url")
    assert [k for k, _ in request.targets] == ["a%20b", "dir%2Ffile", "%E6%96%87", "100%25"]
    assert request.url_encoded is True
    plain = docs.parse_delete_request(body, None)
    assert [k for k, _ in plain.targets] == ["a%20b", "dir%2Ffile", "%E6%96%87", "100%25"]


@pytest.mark.parametrize(
    ("quiet", "expected"), [("true", True), ("True", True), ("false", False), (None, False)]
)
def test_parse_delete_request_quiet(quiet: str | None, expected: bool) -> None:
    assert docs.parse_delete_request(_delete_body("k", quiet=quiet), None).quiet is expected


def test_parse_delete_request_keeps_spaces_around_keys() -> None:
    request = docs.parse_delete_request(_delete_body("  two spaces  ", "\tt"), None)
    assert [k for k, _ in request.targets] == ["  two spaces  ", "\tt"]


def test_parse_delete_request_accepts_exactly_1000() -> None:
    request = docs.parse_delete_request(_delete_body(*(f"k{i}" for i in range(1000))), None)
    assert len(request.targets) == 1000


@pytest.mark.parametrize(
    "body",
    [
        _delete_body(*(f"k{i}" for i in range(1001))),
        _delete_body(),
        _delete_body(quiet="true"),
        _delete_body(""),
        b"<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        b"<Remove><Object><Key>k</Key></Object></Remove>",
        b"<Delete><Object><Key>k</Key></Object>",
        b"not xml",
        b"",
        b'<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY x "k">]>'
        b"<Delete><Object><Key>&x;</Key></Object></Delete>",
        b'<!DOCTYPE Delete SYSTEM "http://example.com/x.dtd"><Delete><Object><Key>k</Key></Object></Delete>',
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<Delete><Object><Key>&b;</Key></Object></Delete>",
    ],
    ids=[
        "1001",
        "no-objects",
        "quiet-only",
        "empty-key",
        "no-key",
        "wrong-root",
        "unclosed",
        "garbage",
        "empty",
        "entity",
        "external-dtd",
        "entity-expansion",
    ],
)
def test_parse_delete_request_malformed(body: bytes) -> None:
    with pytest.raises(OssError) as info:
        docs.parse_delete_request(body, None)
    assert info.value.code == "MalformedXML"
    assert info.value.status == 400


# --- CopyObject ---------------------------------------------------------------------


def test_copy_result_v2() -> None:
    body = docs.copy_result(version("k", etag="ABCDEF0123"))
    request = oss.CopyObjectRequest(bucket="bkt", key="k", source_key="src", source_bucket="bkt")
    r2 = v2_call(v2ops.copy_object, request, body)
    assert r2.etag == '"ABCDEF0123"'
    assert r2.last_modified == CREATED_DT


def test_copy_result_document() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(docs.copy_result(version("k", etag="ABCDEF0123")))
    assert root.tag == "CopyObjectResult"
    assert root.findtext("ETag") == '"ABCDEF0123"'
    assert oss2.utils.iso8601_to_unixtime(root.findtext("LastModified") or "") == int(CREATED)


def test_iso8601_is_what_oss2_accepts() -> None:
    assert docs.iso8601(CREATED) == CREATED_ISO
    assert docs.iso8601(CREATED + 0.999) == CREATED_ISO
    assert oss2.utils.iso8601_to_unixtime(docs.iso8601(0)) == 0
