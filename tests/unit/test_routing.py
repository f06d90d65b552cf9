"""Routing as data, checked with the example requests of the OSS API documents."""

from __future__ import annotations

import pytest

from ferry.core.errors import OssError
from ferry.core.operations import Operation
from ferry.protocol.handlers import HANDLERS
from ferry.protocol.routing import ROUTES, route

Op = Operation
NO_HEADERS: dict[str, str] = {}
COPY = {"x-oss-copy-source": "/src/key"}


def q(raw: str) -> dict[str, str]:
    """A query string as the app hands it to route(): names to values, '' for a bare name."""
    out: dict[str, str] = {}
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            out[name] = value
    return out


ROUTING_TABLE = [
    # (method, bucket, key, query, headers, operation)
    ("GET", None, None, "", NO_HEADERS, Op.ListBuckets),
    ("GET", None, None, "prefix=a&marker=b&max-keys=10", NO_HEADERS, Op.ListBuckets),
    ("PUT", "b", None, "", NO_HEADERS, Op.PutBucket),
    ("DELETE", "b", None, "", NO_HEADERS, Op.DeleteBucket),
    ("HEAD", "b", None, "", NO_HEADERS, Op.HeadBucket),
    ("GET", "b", None, "acl", NO_HEADERS, Op.GetBucketAcl),
    ("PUT", "b", None, "acl", NO_HEADERS, Op.PutBucketAcl),
    ("GET", "b", None, "versioning", NO_HEADERS, Op.GetBucketVersioning),
    ("PUT", "b", None, "versioning", NO_HEADERS, Op.PutBucketVersioning),
    ("GET", "b", None, "bucketInfo", NO_HEADERS, Op.GetBucketInfo),
    ("GET", "b", None, "location", NO_HEADERS, Op.GetBucketLocation),
    ("GET", "b", None, "stat", NO_HEADERS, Op.GetBucketStat),
    ("GET", "b", None, "live", NO_HEADERS, Op.ListLiveChannel),
    ("GET", "b", None, "versions", NO_HEADERS, Op.ListObjectVersions),
    ("GET", "b", None, "uploads", NO_HEADERS, Op.ListMultipartUploads),
    ("POST", "b", None, "delete", NO_HEADERS, Op.DeleteMultipleObjects),
    ("POST", "b", None, "delete&encoding-type=url", NO_HEADERS, Op.DeleteMultipleObjects),
    ("POST", "b", None, "replication&comp=add", NO_HEADERS, Op.PutBucketReplication),
    ("POST", "b", None, "replication=&comp=add", NO_HEADERS, Op.PutBucketReplication),
    ("POST", "b", None, "comp=add&replication", NO_HEADERS, Op.PutBucketReplication),
    ("POST", "b", None, "replication&comp=delete", NO_HEADERS, Op.DeleteBucketReplication),
    ("GET", "b", None, "replication", NO_HEADERS, Op.GetBucketReplication),
    ("PUT", "b", None, "rtc", NO_HEADERS, Op.PutBucketRtc),
    ("GET", "b", None, "replicationLocation", NO_HEADERS, Op.GetBucketReplicationLocation),
    ("GET", "b", None, "replicationProgress&rule-id=x", NO_HEADERS, Op.GetBucketReplicationProgress),
    ("PUT", "b", None, "policy", NO_HEADERS, Op.PutBucketPolicy),
    ("GET", "b", None, "policy", NO_HEADERS, Op.GetBucketPolicy),
    ("DELETE", "b", None, "policy", NO_HEADERS, Op.DeleteBucketPolicy),
    ("POST", "b", None, "x-ferry-replication-role", NO_HEADERS, Op.FerryCheckReplicationRole),
    ("GET", "b", None, "", NO_HEADERS, Op.ListObjects),
    ("GET", "b", None, "list-type=2", NO_HEADERS, Op.ListObjects),
    (
        "GET",
        "b",
        None,
        "list-type=2&continuation-token=x&start-after=a&fetch-owner=true",
        NO_HEADERS,
        Op.ListObjects,
    ),
    ("PUT", "b", "k", "", COPY, Op.CopyObject),
    ("PUT", "b", "k", "", NO_HEADERS, Op.PutObject),
    ("PUT", "b", "dir/k", "", {"content-type": "text/plain"}, Op.PutObject),
    ("GET", "b", "k", "", NO_HEADERS, Op.GetObject),
    ("GET", "b", "k", "objectMeta", NO_HEADERS, Op.GetObjectMeta),
    ("HEAD", "b", "k", "objectMeta", NO_HEADERS, Op.GetObjectMeta),
    ("HEAD", "b", "k", "", NO_HEADERS, Op.HeadObject),
    ("DELETE", "b", "k", "", NO_HEADERS, Op.DeleteObject),
    ("PUT", "b", "k", "acl", NO_HEADERS, Op.PutObjectAcl),
    ("GET", "b", "k", "acl", NO_HEADERS, Op.GetObjectAcl),
    ("POST", "b", "k", "uploads", NO_HEADERS, Op.InitiateMultipartUpload),
    ("POST", "b", "k", "uploads&sequential", NO_HEADERS, Op.InitiateMultipartUpload),
    ("POST", "b", "k", "uploads&encoding-type=url", NO_HEADERS, Op.InitiateMultipartUpload),
    ("PUT", "b", "k", "partNumber=1&uploadId=u", NO_HEADERS, Op.UploadPart),
    ("PUT", "b", "k", "partNumber=1&uploadId=u", COPY, Op.UploadPartCopy),
    ("POST", "b", "k", "uploadId=u", NO_HEADERS, Op.CompleteMultipartUpload),
    ("POST", "b", "k", "uploadId=u&encoding-type=url", NO_HEADERS, Op.CompleteMultipartUpload),
    ("DELETE", "b", "k", "uploadId=u", NO_HEADERS, Op.AbortMultipartUpload),
    ("GET", "b", "k", "uploadId=u", NO_HEADERS, Op.ListParts),
    ("GET", "b", "k", "uploadId=u&max-parts=10&part-number-marker=2", NO_HEADERS, Op.ListParts),
    ("POST", "b", "k", "append&position=0", NO_HEADERS, Op.AppendObject),
    ("PUT", "b", "k", "symlink", {"x-oss-symlink-target": "t"}, Op.PutSymlink),
    ("GET", "b", "k", "symlink", NO_HEADERS, Op.GetSymlink),
    ("DELETE", "b", "k", "symlink&versionId=v", NO_HEADERS, Op.DeleteObject),
    # bucket configurations
    ("PUT", "b", None, "cors", NO_HEADERS, Op.PutBucketCors),
    ("DELETE", "b", None, "cors", NO_HEADERS, Op.DeleteBucketCors),
    ("GET", "b", None, "lifecycle", NO_HEADERS, Op.GetBucketLifecycle),
    ("PUT", "b", None, "website", NO_HEADERS, Op.PutBucketWebsite),
    ("GET", "b", None, "referer", NO_HEADERS, Op.GetBucketReferer),
    ("DELETE", "b", None, "logging", NO_HEADERS, Op.DeleteBucketLogging),
    ("GET", "b", None, "tagging", NO_HEADERS, Op.GetBucketTags),
    ("DELETE", "b", None, "tagging=k1,k2", NO_HEADERS, Op.DeleteBucketTags),
    ("GET", "b", "k", "tagging", NO_HEADERS, Op.GetObjectTagging),
    ("PUT", "b", None, "encryption", NO_HEADERS, Op.PutBucketEncryption),
    ("GET", "b", None, "requestPayment", NO_HEADERS, Op.GetBucketRequestPayment),
    ("PUT", None, None, "publicAccessBlock", NO_HEADERS, Op.PutPublicAccessBlock),
    ("GET", "b", None, "publicAccessBlock", NO_HEADERS, Op.GetBucketPublicAccessBlock),
    ("PUT", "b", None, "qos", NO_HEADERS, Op.PutBucketStorageCapacity),
    ("POST", "b", None, "worm", NO_HEADERS, Op.InitiateBucketWorm),
    ("POST", "b", None, "wormId=w1", NO_HEADERS, Op.CompleteBucketWorm),
    ("POST", "b", None, "wormExtend&wormId=w1", NO_HEADERS, Op.ExtendBucketWorm),
    ("DELETE", "b", None, "worm", NO_HEADERS, Op.AbortBucketWorm),
    ("OPTIONS", "b", "k", "", NO_HEADERS, Op.OptionObject),
    ("OPTIONS", "b", None, "", NO_HEADERS, Op.OptionBucket),
    ("GET", None, None, "regionList", NO_HEADERS, Op.ListBuckets),
]


@pytest.mark.parametrize(("method", "bucket", "key", "query", "headers", "expected"), ROUTING_TABLE)
def test_documented_example_requests(
    method: str, bucket: str | None, key: str | None, query: str, headers: dict[str, str], expected: Op
) -> None:
    assert route(method, bucket, key, q(query), headers) is expected


PLAIN_PARAMS = [
    "prefix=a",
    "marker=m",
    "max-keys=10",
    "encoding-type=url",
    "delimiter=%2F",
    "versionId=CAEQ123",
    "response-content-type=text/plain",
    "response-cache-control=no-cache",
    "prefix=acl",  # a sub-resource name as a *value* is still just a value
]


@pytest.mark.parametrize("param", PLAIN_PARAMS)
@pytest.mark.parametrize(
    ("method", "bucket", "key", "headers", "expected"),
    [
        ("GET", "b", None, NO_HEADERS, Op.ListObjects),
        ("GET", "b", "k", NO_HEADERS, Op.GetObject),
        ("HEAD", "b", "k", NO_HEADERS, Op.HeadObject),
        ("DELETE", "b", "k", NO_HEADERS, Op.DeleteObject),
        ("PUT", "b", "k", NO_HEADERS, Op.PutObject),
        ("PUT", "b", "k", COPY, Op.CopyObject),
        ("GET", "b", "k", COPY, Op.GetObject),  # the copy header selects only among PUTs
    ],
)
def test_non_subresource_params_do_not_change_routing(
    param: str, method: str, bucket: str, key: str | None, headers: dict[str, str], expected: Op
) -> None:
    assert route(method, bucket, key, q(param), headers) is expected


def test_plain_params_next_to_a_subresource_keep_the_subresource_route() -> None:
    assert route("GET", "b", "k", q("acl&versionId=v1"), NO_HEADERS) is Op.GetObjectAcl
    assert route("GET", "b", None, q("acl&prefix=x"), NO_HEADERS) is Op.GetBucketAcl


@pytest.mark.parametrize(
    ("method", "bucket", "key", "query"),
    [
        ("GET", "b", "k", "x-oss-process=image/resize,w_100"),
    ],
)
def test_unserved_subresources_are_not_implemented(
    method: str, bucket: str, key: str | None, query: str
) -> None:
    with pytest.raises(OssError) as info:
        route(method, bucket, key, q(query), NO_HEADERS)
    assert info.value.code == "NotImplemented"
    assert info.value.status == 501


@pytest.mark.parametrize(
    ("method", "bucket", "key", "query"),
    [
        ("PATCH", "b", None, ""),
        ("PATCH", "b", "k", ""),
        ("POST", "b", None, ""),
        ("POST", "b", "k", ""),
        ("DELETE", None, None, ""),
        ("PUT", None, None, ""),
        ("DELETE", "b", None, "acl"),
        ("POST", "b", None, "replication"),  # comp is required
        ("POST", "b", None, "replication&comp=bogus"),
        ("GET", "b", None, "rtc"),
    ],
)
def test_wrong_method_is_method_not_allowed(
    method: str, bucket: str | None, key: str | None, query: str
) -> None:
    with pytest.raises(OssError) as info:
        route(method, bucket, key, q(query), NO_HEADERS)
    assert info.value.code == "MethodNotAllowed"
    assert info.value.status == 405


# ListObjectsV2 is served through ListObjects' route: the handler reads list-type=2.
ROUTED_THROUGH_ANOTHER = {Op.ListObjectsV2: Op.ListObjects}


@pytest.mark.parametrize("op", list(Operation), ids=lambda op: op.name)
def test_every_operation_has_a_handler_and_a_route(op: Operation) -> None:
    assert op in HANDLERS
    assert callable(HANDLERS[op])
    routed = {r.operation for r in ROUTES}
    assert ROUTED_THROUGH_ANOTHER.get(op, op) in routed
    if op in ROUTED_THROUGH_ANOTHER:
        assert HANDLERS[op] is HANDLERS[ROUTED_THROUGH_ANOTHER[op]]


def test_every_route_targets_a_handled_operation() -> None:
    for r in ROUTES:
        assert r.operation in HANDLERS, r


@pytest.mark.parametrize("op", list(Operation), ids=lambda op: op.name)
def test_every_action_is_an_oss_action(op: Operation) -> None:
    assert op.action.startswith("oss:")
    assert len(op.action) > len("oss:")


def test_documented_action_exceptions() -> None:
    assert Op.HeadObject.action == "oss:GetObject"
    assert Op.GetObjectMeta.action == "oss:GetObject"
    assert Op.CopyObject.action == "oss:PutObject"
    assert Op.DeleteMultipleObjects.action == "oss:DeleteObject"
    assert Op.ListObjectsV2.action == "oss:ListObjects"
    assert Op.PutBucketReplication.action == "oss:PutBucketReplication"
    for op in (Op.InitiateMultipartUpload, Op.UploadPart, Op.UploadPartCopy, Op.CompleteMultipartUpload):
        assert op.action == "oss:PutObject"
    assert Op.AppendObject.action == "oss:PutObject"
    assert Op.PutSymlink.action == "oss:PutObject"
    assert Op.GetSymlink.action == "oss:GetObject"
    assert Op.AbortMultipartUpload.action == "oss:AbortMultipartUpload"
    assert Op.ListParts.action == "oss:ListParts"
