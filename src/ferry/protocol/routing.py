"""Routing as data: (level, method, sub-resource[, comp]) → operation.

A request whose query names a sub-resource OSS knows but Ferry does not
serve is answered ``NotImplemented``, never routed to a plain object or bucket
call by accident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ferry.core.errors import OssError
from ferry.core.operations import Level, Operation


@dataclass(frozen=True)
class Route:
    level: Level
    method: str
    subresource: str | None
    operation: Operation
    comp: str | None = None
    header: str | None = None
    """A header whose presence selects this route (CopyObject's ``x-oss-copy-source``)."""


B, OBJ, S = Level.BUCKET, Level.OBJECT, Level.SERVICE

ROUTES: Sequence[Route] = (
    Route(S, "GET", None, Operation.ListBuckets),
    Route(B, "PUT", "acl", Operation.PutBucketAcl),
    Route(B, "GET", "acl", Operation.GetBucketAcl),
    Route(B, "PUT", "versioning", Operation.PutBucketVersioning),
    Route(B, "GET", "versioning", Operation.GetBucketVersioning),
    Route(B, "GET", "bucketInfo", Operation.GetBucketInfo),
    Route(B, "GET", "location", Operation.GetBucketLocation),
    Route(B, "GET", "stat", Operation.GetBucketStat),
    Route(B, "GET", "live", Operation.ListLiveChannel),
    Route(B, "GET", "uploads", Operation.ListMultipartUploads),
    Route(B, "GET", "versions", Operation.ListObjectVersions),
    Route(B, "POST", "delete", Operation.DeleteMultipleObjects),
    Route(B, "POST", "replication", Operation.PutBucketReplication, comp="add"),
    Route(B, "POST", "replication", Operation.DeleteBucketReplication, comp="delete"),
    Route(B, "GET", "replication", Operation.GetBucketReplication),
    Route(B, "PUT", "rtc", Operation.PutBucketRtc),
    Route(B, "GET", "replicationLocation", Operation.GetBucketReplicationLocation),
    Route(B, "GET", "replicationProgress", Operation.GetBucketReplicationProgress),
    Route(B, "PUT", "policy", Operation.PutBucketPolicy),
    Route(B, "GET", "policy", Operation.GetBucketPolicy),
    Route(B, "DELETE", "policy", Operation.DeleteBucketPolicy),
    Route(B, "GET", "x-ferry-replication-target", Operation.FerryDescribeReplicationTarget),
    Route(B, "POST", "x-ferry-replication-target", Operation.FerryRegisterIncomingRule, comp="add"),
    Route(B, "POST", "x-ferry-replication-target", Operation.FerryWithdrawIncomingRule, comp="delete"),
    Route(B, "POST", "x-ferry-replication-role", Operation.FerryCheckReplicationRole),
    Route(B, "POST", "x-ferry-replica-batch", Operation.FerryPutReplicaBatch),
    Route(B, "PUT", "cors", Operation.PutBucketCors),
    Route(B, "GET", "cors", Operation.GetBucketCors),
    Route(B, "DELETE", "cors", Operation.DeleteBucketCors),
    Route(B, "PUT", "lifecycle", Operation.PutBucketLifecycle),
    Route(B, "GET", "lifecycle", Operation.GetBucketLifecycle),
    Route(B, "DELETE", "lifecycle", Operation.DeleteBucketLifecycle),
    Route(B, "PUT", "referer", Operation.PutBucketReferer),
    Route(B, "GET", "referer", Operation.GetBucketReferer),
    Route(B, "PUT", "website", Operation.PutBucketWebsite),
    Route(B, "GET", "website", Operation.GetBucketWebsite),
    Route(B, "DELETE", "website", Operation.DeleteBucketWebsite),
    Route(B, "PUT", "logging", Operation.PutBucketLogging),
    Route(B, "GET", "logging", Operation.GetBucketLogging),
    Route(B, "DELETE", "logging", Operation.DeleteBucketLogging),
    Route(B, "PUT", "tagging", Operation.PutBucketTags),
    Route(B, "GET", "tagging", Operation.GetBucketTags),
    Route(B, "DELETE", "tagging", Operation.DeleteBucketTags),
    Route(B, "PUT", "encryption", Operation.PutBucketEncryption),
    Route(B, "GET", "encryption", Operation.GetBucketEncryption),
    Route(B, "DELETE", "encryption", Operation.DeleteBucketEncryption),
    Route(B, "PUT", "requestPayment", Operation.PutBucketRequestPayment),
    Route(B, "GET", "requestPayment", Operation.GetBucketRequestPayment),
    Route(B, "PUT", "publicAccessBlock", Operation.PutBucketPublicAccessBlock),
    Route(B, "GET", "publicAccessBlock", Operation.GetBucketPublicAccessBlock),
    Route(B, "DELETE", "publicAccessBlock", Operation.DeleteBucketPublicAccessBlock),
    Route(S, "PUT", "publicAccessBlock", Operation.PutPublicAccessBlock),
    Route(S, "GET", "publicAccessBlock", Operation.GetPublicAccessBlock),
    Route(S, "DELETE", "publicAccessBlock", Operation.DeletePublicAccessBlock),
    Route(B, "PUT", "qos", Operation.PutBucketStorageCapacity),
    Route(B, "GET", "qos", Operation.GetBucketStorageCapacity),
    Route(B, "POST", "wormExtend", Operation.ExtendBucketWorm),
    Route(B, "POST", "wormId", Operation.CompleteBucketWorm),
    Route(B, "POST", "worm", Operation.InitiateBucketWorm),
    Route(B, "DELETE", "worm", Operation.AbortBucketWorm),
    Route(B, "GET", "worm", Operation.GetBucketWorm),
    Route(B, "OPTIONS", None, Operation.OptionBucket),
    Route(OBJ, "OPTIONS", None, Operation.OptionObject),
    Route(B, "PUT", None, Operation.PutBucket),
    Route(B, "DELETE", None, Operation.DeleteBucket),
    Route(B, "HEAD", None, Operation.HeadBucket),
    Route(B, "GET", None, Operation.ListObjects),
    Route(OBJ, "PUT", "acl", Operation.PutObjectAcl),
    Route(OBJ, "GET", "acl", Operation.GetObjectAcl),
    Route(OBJ, "GET", "objectMeta", Operation.GetObjectMeta),
    Route(OBJ, "PUT", "tagging", Operation.PutObjectTagging),
    Route(OBJ, "GET", "tagging", Operation.GetObjectTagging),
    Route(OBJ, "DELETE", "tagging", Operation.DeleteObjectTagging),
    Route(OBJ, "HEAD", "objectMeta", Operation.GetObjectMeta),
    # A big object's replica travels as a multipart upload of the replication service.
    Route(OBJ, "POST", "uploads", Operation.FerryInitiateReplicaUpload, header="x-ferry-replica-seq"),
    Route(OBJ, "PUT", "uploadId", Operation.FerryUploadReplicaPart, header="x-ferry-replica-seq"),
    Route(OBJ, "POST", "uploadId", Operation.FerryCompleteReplicaUpload, header="x-ferry-replica-seq"),
    Route(OBJ, "POST", "uploads", Operation.InitiateMultipartUpload),
    Route(OBJ, "PUT", "uploadId", Operation.UploadPartCopy, header="x-oss-copy-source"),
    Route(OBJ, "PUT", "uploadId", Operation.UploadPart),
    Route(OBJ, "POST", "uploadId", Operation.CompleteMultipartUpload),
    Route(OBJ, "DELETE", "uploadId", Operation.AbortMultipartUpload),
    Route(OBJ, "GET", "uploadId", Operation.ListParts),
    Route(OBJ, "POST", "append", Operation.AppendObject),
    Route(OBJ, "PUT", "symlink", Operation.PutSymlink),
    Route(OBJ, "GET", "symlink", Operation.GetSymlink),
    Route(OBJ, "POST", "restore", Operation.RestoreObject),
    # oss2's get_symlink adds ``symlink`` to the caller's params, which often go on to a
    # DeleteObject; OSS deletes the object (version) then, so Ferry does too.
    Route(OBJ, "DELETE", "symlink", Operation.DeleteObject),
    Route(OBJ, "PUT", None, Operation.FerryPutReplica, header="x-ferry-replica-seq"),
    Route(OBJ, "DELETE", None, Operation.FerryDeleteReplica, header="x-ferry-replica-seq"),
    Route(OBJ, "PUT", None, Operation.CopyObject, header="x-oss-copy-source"),
    Route(OBJ, "PUT", None, Operation.PutObject),
    Route(OBJ, "GET", None, Operation.GetObject),
    Route(OBJ, "HEAD", None, Operation.HeadObject),
    Route(OBJ, "DELETE", None, Operation.DeleteObject),
)

ROUTED_SUBRESOURCES = frozenset(r.subresource for r in ROUTES if r.subresource)

KNOWN_UNSERVED_SUBRESOURCES = frozenset(
    {
        "inventory",
        "qosInfo",
        "resourceGroup",
        "transferAcceleration",
        "accessMonitor",
        "httpsConfig",
        "policyStatus",
        "cname",
        "style",
        "select",
        "x-oss-process",
        "processConfiguration",
        "asyncFetch",
        "metaQuery",
        "dataRedundancyTransition",
        "accessPoint",
        "callback",
        "img",
        "resourcePool",
        "redundancyTransition",
        "userDefinedLogFieldsConfig",
        "archiveDirectRead",
        "sequential",
        "describeRegions",
        "objectInfo",
        "responseHeader",
        "accessmonitor",
        "regions",
        "accessPointPolicy",
        "requesterQosInfo",
        "qosRequester",
        "resourcePoolInfo",
        "resourcePoolBuckets",
        "styleName",
        "vod",
        "x-oss-async-process",
        "x-oss-write-get-object-response",
    }
)


_ROUTES_BY_LEVEL_AND_METHOD: dict[tuple[Level, str], list[Route]] = {}
for _route in ROUTES:
    _ROUTES_BY_LEVEL_AND_METHOD.setdefault((_route.level, _route.method), []).append(_route)
"""``ROUTES`` split by level and method, in their order: a request scans only its own."""


def level_of(bucket: str | None, key: str | None) -> Level:
    if bucket is None:
        return Level.SERVICE
    return Level.OBJECT if key is not None else Level.BUCKET


def route(
    method: str, bucket: str | None, key: str | None, query: Mapping[str, str], headers: Mapping[str, str]
) -> Operation:
    level = level_of(bucket, key)
    present = [name for name in query if name in ROUTED_SUBRESOURCES]
    for r in _ROUTES_BY_LEVEL_AND_METHOD.get((level, method), ()):
        if r.subresource is None:
            if present:
                continue
        elif r.subresource not in query:
            continue
        if r.comp is not None and query.get("comp") != r.comp:
            continue
        if r.header is not None and r.header not in headers:
            continue
        if r.subresource is None:
            _refuse_unserved(query)
        return r.operation
    _refuse_unserved(query)
    here = {r.subresource for r in ROUTES if r.level is level}
    if any(name in ROUTED_SUBRESOURCES and name not in here for name in query):
        # Served at another level only (e.g. ``versions`` on an object).
        raise OssError("NotImplemented", f"{method} with {sorted(query)} is not implemented by Ferry yet.")
    raise OssError("MethodNotAllowed", f"{method} is not allowed against this resource.")


def _refuse_unserved(query: Mapping[str, str]) -> None:
    for name in query:
        if name in KNOWN_UNSERVED_SUBRESOURCES:
            raise OssError("NotImplemented", f"The sub-resource {name!r} is not implemented by Ferry yet.")
