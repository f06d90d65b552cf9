"""Bucket configurations that decide whether a request may proceed at all.

Checked once per request, after authentication and authorization, before the
handler: hotlink protection (referer), requester pays, the public access block
(bucket- or account-level), the retention policy (overwrites) and the storage
capacity (writes).
"""

from __future__ import annotations

from collections.abc import Mapping

from ferry.core import referer
from ferry.core.bucket_options import PublicAccessBlock, RequestPayment, StorageCapacity
from ferry.core.errors import OssError
from ferry.core.identity import Principal
from ferry.core.model import Bucket
from ferry.core.operations import Access, Operation
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.retention import RetentionGuard
from ferry.storage.sqlite_usage import SqliteUsage

GIB = 1024**3
_PUBLIC_ACLS = frozenset({"public-read", "public-read-write"})
_ACL_SETTERS = {
    Operation.PutBucketAcl: "x-oss-acl",
    Operation.PutObjectAcl: "x-oss-object-acl",
    Operation.PutObject: "x-oss-object-acl",
    Operation.CopyObject: "x-oss-object-acl",
}
_OVERWRITES = frozenset({"PutObject", "CopyObject", "AppendObject", "CompleteMultipartUpload", "PostObject"})
"""Operations that may replace an existing object (checked against the retention policy)."""
_WRITES = _OVERWRITES | {"UploadPart", "UploadPartCopy"}
"""Operations that add bytes to a bucket (checked against its storage capacity)."""


class BucketGuards:
    def __init__(self, configs: BucketConfigService, retention: RetentionGuard, usage: SqliteUsage) -> None:
        self._configs = configs
        self._retention = retention
        self._usage = usage

    def admit(
        self,
        op: Operation,
        principal: Principal,
        bucket: Bucket,
        key: str | None,
        headers: Mapping[str, str],
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Raise when the bucket's configuration refuses this request (blocking). ``query``: a
        presigned URL may carry ``x-oss-request-payer`` as a parameter instead of a header."""
        if op.access in (Access.PUBLIC, Access.SERVICE):
            return
        configs = self._configs
        owner = not principal.anonymous and principal.account_id == bucket.owner_id
        if "authorization" not in headers:
            # Anonymous and presigned-URL access: the referer lists apply.
            referer.check(configs.get(bucket.name, referer.RefererConfiguration), headers.get("referer"))
        if not owner:
            self._check_payer(bucket, principal, headers, query or {})
        acl_header = _ACL_SETTERS.get(op)
        wants_public_acl = acl_header is not None and headers.get(acl_header) in _PUBLIC_ACLS
        if (principal.anonymous or wants_public_acl) and public_access_blocked(configs, bucket):
            if wants_public_acl:
                raise OssError("AccessDenied", "Public ACLs cannot be set while public access is blocked.")
            raise OssError("AccessDenied", "Public access is blocked for this bucket.")
        if key is not None and op.name in _OVERWRITES:
            self._retention.check_overwrite(bucket, key)
        if op.name in _WRITES:
            self._check_capacity(bucket, headers)

    def _check_payer(
        self,
        bucket: Bucket,
        principal: Principal,
        headers: Mapping[str, str],
        query: Mapping[str, str | None],
    ) -> None:
        payment = self._configs.get(bucket.name, RequestPayment)
        if payment is None or payment.payer != "Requester":
            return
        if principal.anonymous:
            raise OssError("AccessDenied", "Anonymous access to a requester-pays bucket is forbidden.")
        payer = headers.get("x-oss-request-payer") or query.get("x-oss-request-payer") or ""
        if payer.lower() != "requester":
            raise OssError("AccessDenied", "The bucket is requester-pays: send x-oss-request-payer.")

    def _check_capacity(self, bucket: Bucket, headers: Mapping[str, str]) -> None:
        capacity = self._configs.get(bucket.name, StorageCapacity)
        if capacity is None or capacity.gigabytes < 0:
            return
        incoming = headers.get("content-length", "0")
        wanted = self._usage.total_bytes(bucket.name) + (int(incoming) if incoming.isdigit() else 0)
        if wanted > capacity.gigabytes * GIB:
            raise OssError(
                "InsufficientStorageSpace",
                f"The bucket's storage capacity of {capacity.gigabytes} GB would be exceeded.",
                BucketName=bucket.name,
            )


def public_access_blocked(configs: BucketConfigService, bucket: Bucket) -> bool:
    for block in (
        configs.get(bucket.name, PublicAccessBlock),
        configs.get_account(bucket.owner_id, PublicAccessBlock),
    ):
        if block is not None and block.block_public_access:
            return True
    return False
