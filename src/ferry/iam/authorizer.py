"""Whether a caller may perform an operation: decided here, once per resource, before any handler.

The order follows OSS's authorization process:

1. Region-to-region operations (``Access.SERVICE``) are for Ferry's replication service only.
2. STS session policy: a session may do only what its session policy allows (when it has one).
3. Explicit ``Deny`` in the caller's RAM policies (a RAM user's, or the assumed role's) or in the
   bucket policy refuses, whatever else allows.
4. The bucket's own account: its owner key may do everything; its RAM users and roles what their
   policies or the bucket policy allow.
5. Another account (or anonymous): what the bucket policy allows -- and, for a RAM user or role of
   that other account, only if its own account's policies allow it too (an account vouches for
   its principals).
6. ACLs: what the object's ACL (or the bucket's, for ``default``) grants to everyone.
7. Otherwise ``AccessDenied``.

Every operation names its RAM action (``Operation.action``); the resource is
``acs:oss:<region>:<owner account>:<bucket>[/<key>]`` (``...:*`` for ListBuckets).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ferry.core.errors import OssError
from ferry.core.identity import ANONYMOUS, SERVICE_ACCOUNT_ID, Principal, ReplicaActor
from ferry.core.model import Bucket, BucketAcl, ObjectAcl
from ferry.core.operations import Access, Operation
from ferry.iam.policy import AccessFacts, Effect, Policy, PrincipalNames, combine, evaluate
from ferry.iam.view import REPLICATION_SERVICE, RoleView

ObjectAclLookup = Callable[[], ObjectAcl | None]

_GRANTS: dict[str, frozenset[Access]] = {
    "private": frozenset(),
    "public-read": frozenset({Access.READ}),
    "public-read-write": frozenset({Access.READ, Access.WRITE}),
}
_POLICY_ADMIN = frozenset(
    {Operation.PutBucketPolicy, Operation.GetBucketPolicy, Operation.DeleteBucketPolicy}
)
"""The owner's own key can always manage the bucket policy, so a policy cannot lock it out."""
REPLICATION_SESSION = "ferry-replication"
SESSION_POLICY_DENIED_EC = "0003-00000301"


@dataclass(frozen=True)
class Caller:
    principal: Principal
    session_policy: Policy | None = None
    """An STS session's own policy (it narrows the role's; None: no narrowing)."""


ANONYMOUS_CALLER = Caller(ANONYMOUS)


@dataclass(frozen=True)
class AccessCheck:
    """One operation on one resource."""

    op: Operation
    bucket: str | None
    key: str | None = None


@dataclass(frozen=True)
class RequestScope:
    region: str
    facts: Mapping[str, str]
    """Condition keys (lower case) -> values, see :func:`request_facts`."""


class PolicySource(Protocol):
    def identity_policies(self, principal: Principal) -> list[Policy]: ...
    def bucket_policy(self, bucket: Bucket) -> Policy | None: ...
    def principal_names(self, principal: Principal, resource_owner: str | None = None) -> PrincipalNames: ...
    def role(self, account_id: str, name: str) -> RoleView | None: ...


def request_facts(
    *,
    source_ip: str | None,
    secure: bool,
    now: float,
    query: Mapping[str, str],
    user_agent: str | None = None,
    access_key_id: str | None = None,
) -> dict[str, str]:
    facts = {
        "acs:securetransport": "true" if secure else "false",
        "acs:currenttime": _iso_second(int(now)),
    }
    if source_ip:
        facts["acs:sourceip"] = source_ip
    if user_agent:
        facts["acs:useragent"] = user_agent
    if access_key_id:
        facts["acs:accessid"] = access_key_id
    for param, key in (
        ("prefix", "oss:prefix"),
        ("delimiter", "oss:delimiter"),
        ("max-keys", "oss:maxkeys"),
        ("versionId", "oss:versionid"),
    ):
        if param in query:
            facts[key] = query[param]
    return facts


@functools.lru_cache(maxsize=64)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_scope(region: str, now: float) -> RequestScope:
    """The scope of writes Ferry's replication makes itself (no client address, no TLS)."""
    return RequestScope(region, request_facts(source_ip=None, secure=False, now=now, query={}))


def resource_arns(region: str, account: str, bucket: str | None, key: str | None) -> tuple[str, ...]:
    """The resource in each region spelling a policy may use (``cn-hangzhou``, ``oss-cn-hangzhou``)."""
    path = "*" if bucket is None else bucket if key is None else f"{bucket}/{key}"
    short = region.removeprefix("oss-")
    return tuple(dict.fromkeys((f"acs:oss:{short}:{account}:{path}", f"acs:oss:{region}:{account}:{path}")))


def _denied(message: str, **details: str) -> OssError:
    return OssError("AccessDenied", message, **details)


def authorize(
    check: AccessCheck,
    caller: Caller,
    bucket: Bucket | None,
    scope: RequestScope,
    policies: PolicySource,
    object_acl: ObjectAclLookup | None = None,
) -> None:
    """Raise AccessDenied unless ``caller`` may run ``check`` (on ``bucket``, when it exists)."""
    op, principal = check.op, caller.principal
    if op.access is Access.SERVICE:
        if principal.account_id != SERVICE_ACCOUNT_ID:
            raise _denied("Only Ferry's replication service may call this.")
        return
    if op.access is Access.PUBLIC:
        return  # e.g. a CORS preflight: the bucket's CORS rules decide, not its ACL
    if principal.anonymous and bucket is None:
        raise _denied("Anonymous access is forbidden for this operation.")
    owner = bucket.owner_id if bucket is not None else principal.account_id
    assert owner is not None
    ram = principal.user is not None or principal.role is not None
    bucket_policy = policies.bucket_policy(bucket) if bucket is not None else None
    identity = from_bucket = None
    if caller.session_policy is not None or ram or bucket_policy is not None:
        # Built only when a policy is there to read it: most calls are an owner's, policy-free.
        access = AccessFacts(
            op.action, resource_arns(scope.region, owner, check.bucket, check.key), scope.facts
        )
        if caller.session_policy is not None and evaluate(caller.session_policy, access) is not Effect.ALLOW:
            raise _denied(
                f"The session policy of your security token does not allow {op.action}.",
                EC=SESSION_POLICY_DENIED_EC,
            )
        if ram:
            identity = combine([evaluate(p, access) for p in policies.identity_policies(principal)])
        if bucket_policy is not None:
            names = policies.principal_names(principal, owner)
            from_bucket = evaluate(bucket_policy, access, names)
            if (
                from_bucket is Effect.DENY
                and principal.is_root
                and owner == principal.account_id
                and op in _POLICY_ADMIN
            ):
                from_bucket = None
        if Effect.DENY in (identity, from_bucket):
            raise _denied(f"You are explicitly denied {op.action} on {access.resources[0]} by a policy.")

    if not principal.anonymous and principal.account_id == owner:
        if principal.is_root or Effect.ALLOW in (identity, from_bucket):
            return
    elif from_bucket is Effect.ALLOW and (not ram or identity is Effect.ALLOW):
        return
    if bucket is not None and acl_allows(op, bucket.acl, object_acl):
        return
    if ram:
        resource = resource_arns(scope.region, owner, check.bucket, check.key)[0]
        raise _denied(f"You have no right to {op.action} on {resource}: no policy allows it.")
    raise _denied("You have no right to access this object because of bucket acl.")


def acl_allows(op: Operation, bucket_acl: BucketAcl, object_acl: ObjectAclLookup | None) -> bool:
    """Whether the ACLs alone (bucket, and object unless it is ``default``) grant ``op``."""
    if op.access in (Access.OWNER, Access.SERVICE):
        return False
    effective = bucket_acl.value
    if object_acl is not None:
        acl = object_acl()
        if acl is not None and acl is not ObjectAcl.DEFAULT:
            effective = acl.value
    return op.access in _GRANTS[effective]


# --- replication -----------------------------------------------------------------------------


def role_trusts_replication(role: RoleView | None) -> bool:
    if role is None or role.trust is None:
        return False
    access = AccessFacts("sts:AssumeRole", ("*",), {})
    return evaluate(role.trust, access, PrincipalNames(frozenset({REPLICATION_SERVICE}))) is Effect.ALLOW


def authorize_replica_write(
    actor: ReplicaActor,
    op: Operation,
    bucket: Bucket,
    key: str,
    scope: RequestScope,
    policies: PolicySource,
) -> None:
    """May the replication of ``actor``'s rule write (``PutObject``) or delete (``DeleteObject``)
    ``key`` in ``bucket``?

    Within one account, yes: replication acts for the owner.  Into another account only with the
    rule's SyncRole, a role of the source account that trusts Ferry's replication service, and
    with exactly that role's rights: its policies must allow the write and the destination's
    owner must let the role write there (a bucket policy naming it), like any other principal
    of another account.
    """
    if actor.account_id == bucket.owner_id:
        return
    if not actor.role:
        raise _denied("Replicating into another account's bucket needs the rule's SyncRole.")
    if not role_trusts_replication(policies.role(actor.account_id, actor.role)):
        raise _denied(
            f"The SyncRole {actor.role} does not exist in account {actor.account_id} "
            "or does not trust Ferry's replication service."
        )
    caller = Caller(Principal(account_id=actor.account_id, role=actor.role, session=REPLICATION_SESSION))
    authorize(AccessCheck(op, bucket.name, key), caller, bucket, scope, policies)
