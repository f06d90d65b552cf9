"""Whether a principal may perform an operation: checked once, before any handler runs.

Today: the bucket owner may do everything; anyone else (anonymous callers
included) only what the bucket's ACL, or the object's own ACL, grants.
RAM users and policies extend this one function.
"""

from __future__ import annotations

from collections.abc import Callable

from ferry.core.errors import OssError
from ferry.core.identity import SERVICE_ACCOUNT_ID, Principal
from ferry.core.model import Bucket, BucketAcl, ObjectAcl
from ferry.core.operations import Access, Operation

ObjectAclLookup = Callable[[], ObjectAcl | None]

_GRANTS: dict[str, frozenset[Access]] = {
    "private": frozenset(),
    "public-read": frozenset({Access.READ}),
    "public-read-write": frozenset({Access.READ, Access.WRITE}),
}


def authorize(
    op: Operation,
    principal: Principal,
    bucket: Bucket | None,
    object_acl: ObjectAclLookup | None = None,
) -> None:
    """Raise AccessDenied unless ``principal`` may run ``op`` on ``bucket`` (and its object)."""
    if op.access is Access.SERVICE:
        if principal.account_id != SERVICE_ACCOUNT_ID:
            raise OssError("AccessDenied", "Only Ferry's replication service may call this.")
        return
    if op.access is Access.PUBLIC:
        return  # e.g. a CORS preflight: the bucket's CORS rules decide, not its ACL
    if bucket is None:
        # Service calls and bucket creation need a signed-in account.
        if principal.anonymous:
            raise OssError("AccessDenied", "Anonymous access is forbidden for this operation.")
        return
    if not principal.anonymous and principal.account_id == bucket.owner_id:
        return
    if _acl_allows(op, bucket.acl, object_acl):
        return
    raise OssError("AccessDenied", "You have no right to access this object because of bucket acl.")


def _acl_allows(op: Operation, bucket_acl: BucketAcl, object_acl: ObjectAclLookup | None) -> bool:
    if op.access in (Access.OWNER, Access.SERVICE):
        return False
    effective = bucket_acl.value
    if object_acl is not None:
        acl = object_acl()
        if acl is not None and acl is not ObjectAcl.DEFAULT:
            effective = acl.value
    return op.access in _GRANTS[effective]
