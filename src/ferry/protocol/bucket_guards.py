"""Bucket configurations that decide whether a request may proceed at all.

Checked once per request, after authentication and authorization, before the
handler: hotlink protection (referer), requester pays, and the public access
block (bucket- or account-level).
"""

from __future__ import annotations

from collections.abc import Mapping

from ferry.core import referer
from ferry.core.bucket_options import PublicAccessBlock, RequestPayment
from ferry.core.errors import OssError
from ferry.core.identity import Principal
from ferry.core.model import Bucket
from ferry.core.operations import Access, Operation
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.retention import RetentionGuard

_PUBLIC_ACLS = frozenset({"public-read", "public-read-write"})
_ACL_SETTERS = {
    Operation.PutBucketAcl: "x-oss-acl",
    Operation.PutObjectAcl: "x-oss-object-acl",
    Operation.PutObject: "x-oss-object-acl",
    Operation.CopyObject: "x-oss-object-acl",
}


_OVERWRITES = frozenset({"PutObject", "CopyObject", "AppendObject", "CompleteMultipartUpload", "PostObject"})
"""Operations that may replace an existing object (checked against the retention policy)."""


def admit(
    configs: BucketConfigService,
    retention: RetentionGuard,
    op: Operation,
    principal: Principal,
    bucket: Bucket,
    key: str | None,
    headers: Mapping[str, str],
) -> None:
    """Raise when the bucket's configuration refuses this request (blocking)."""
    if op.access in (Access.PUBLIC, Access.SERVICE):
        return
    if key is not None and op.name in _OVERWRITES:
        retention.check_overwrite(bucket, key)
    owner = not principal.anonymous and principal.account_id == bucket.owner_id
    if "authorization" not in headers:
        # Anonymous and presigned-URL access: the referer lists apply.
        referer.check(configs.get(bucket.name, referer.RefererConfiguration), headers.get("referer"))
    if not owner:
        payment = configs.get(bucket.name, RequestPayment)
        if payment is not None and payment.payer == "Requester":
            if principal.anonymous:
                raise OssError("AccessDenied", "Anonymous access to a requester-pays bucket is forbidden.")
            if headers.get("x-oss-request-payer", "").lower() != "requester":
                raise OssError("AccessDenied", "The bucket is requester-pays: send x-oss-request-payer.")
    acl_header = _ACL_SETTERS.get(op)
    wants_public_acl = acl_header is not None and headers.get(acl_header) in _PUBLIC_ACLS
    if (principal.anonymous or wants_public_acl) and public_access_blocked(configs, bucket):
        if wants_public_acl:
            raise OssError("AccessDenied", "Public ACLs cannot be set while public access is blocked.")
        raise OssError("AccessDenied", "Public access is blocked for this bucket.")


def public_access_blocked(configs: BucketConfigService, bucket: Bucket) -> bool:
    for block in (
        configs.get(bucket.name, PublicAccessBlock),
        configs.get_account(bucket.owner_id, PublicAccessBlock),
    ):
        if block is not None and block.block_public_access:
            return True
    return False
