"""The authorization decision, over a real IamView built from records (no storage, no HTTP)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from ferry.core.errors import OssError
from ferry.core.identity import ANONYMOUS, SERVICE_ACCOUNT_ID, Principal, ReplicaActor
from ferry.core.model import Bucket, BucketAcl, ObjectAcl
from ferry.core.operations import Operation
from ferry.iam.authorizer import (
    AccessCheck,
    Caller,
    RequestScope,
    authorize,
    authorize_replica_write,
    request_facts,
    resource_arns,
)
from ferry.iam.crypto import SecretBox
from ferry.iam.policy import PolicyKind, parse_policy
from ferry.iam.records import (
    AccountRecord,
    AttachmentRecord,
    BucketPolicyRecord,
    IamRecords,
    PolicyRecord,
    RoleRecord,
    TargetKind,
    UserRecord,
)
from ferry.iam.view import IamView
from ferry.service.iam_admin import default_trust_policy

OWNER, OTHER = "1000000000000001", "2000000000000002"
BUCKET = Bucket(name="bkt", owner_id=OWNER, region="oss-cn-hangzhou", created_at=100.0)
SCOPE = RequestScope(
    "oss-cn-hangzhou", request_facts(source_ip="127.0.0.1", secure=False, now=1_700_000_000, query={})
)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(actions: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def deny(actions: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resource}


def view(
    *,
    user_policies: dict[tuple[str, str], str] | None = None,
    role_policies: dict[tuple[str, str], str] | None = None,
    bucket_policy: str | None = None,
    trust: str | None = None,
) -> IamView:
    users, roles, policies, attachments = [], [], [], []
    for (account, name), text in (user_policies or {}).items():
        users.append(UserRecord(account, name, f"uid-{name}", 1.0))
        policies.append(PolicyRecord(account, name, text, 1.0))
        attachments.append(AttachmentRecord(account, name, False, TargetKind.USER, name))
    for (account, name), text in (role_policies or {}).items():
        roles.append(
            RoleRecord(account, name, f"rid-{name}", trust or default_trust_policy(account), 3600, 1.0)
        )
        policies.append(PolicyRecord(account, f"{name}-p", text, 1.0))
        attachments.append(AttachmentRecord(account, f"{name}-p", False, TargetKind.ROLE, name))
    records = IamRecords(
        generation=1,
        accounts=(AccountRecord(OWNER, "owner", 1.0), AccountRecord(OTHER, "other", 1.0)),
        users=tuple(users),
        roles=tuple(roles),
        policies=tuple(policies),
        attachments=tuple(attachments),
        bucket_policies=(BucketPolicyRecord("bkt", 100.0, bucket_policy),) if bucket_policy else (),
    )
    return IamView(records, SecretBox(os.urandom(32)))


def decide(
    op: Operation,
    principal: Principal,
    policies: IamView,
    *,
    key: str | None = "docs/a",
    bucket: Bucket | None = BUCKET,
    session: str | None = None,
    acl: Callable[[], ObjectAcl | None] | None = None,
) -> str:
    caller = Caller(principal, parse_policy(session, PolicyKind.SESSION) if session else None)
    try:
        authorize(AccessCheck(op, bucket.name if bucket else None, key), caller, bucket, SCOPE, policies, acl)
    except OssError as exc:
        return exc.code
    return "allowed"


ROOT = Principal(account_id=OWNER)
OTHER_ROOT = Principal(account_id=OTHER)
ALICE = Principal(account_id=OWNER, user="alice")
BOB = Principal(account_id=OTHER, user="bob")


def test_the_owner_key_may_do_everything_and_a_policyless_ram_user_nothing() -> None:
    nothing = view(user_policies={(OWNER, "alice"): doc()})
    for op in (Operation.GetObject, Operation.PutBucketReplication, Operation.DeleteBucket):
        assert decide(op, ROOT, nothing) == "allowed"
        assert decide(op, ALICE, nothing) == "AccessDenied"


def test_a_ram_user_gets_what_its_policies_allow_on_the_matching_resources() -> None:
    policies = view(user_policies={(OWNER, "alice"): doc(allow("oss:GetObject", "acs:oss:*:*:bkt/docs/*"))})
    assert decide(Operation.GetObject, ALICE, policies) == "allowed"
    assert decide(Operation.HeadObject, ALICE, policies) == "allowed"  # HeadObject is oss:GetObject
    assert decide(Operation.GetObject, ALICE, policies, key="private/a") == "AccessDenied"
    assert decide(Operation.PutObject, ALICE, policies) == "AccessDenied"


def test_resources_carry_the_region_in_either_spelling_and_the_owner_account() -> None:
    assert resource_arns("oss-cn-hangzhou", OWNER, "bkt", "k") == (
        f"acs:oss:cn-hangzhou:{OWNER}:bkt/k",
        f"acs:oss:oss-cn-hangzhou:{OWNER}:bkt/k",
    )
    assert resource_arns("local", OWNER, None, None) == (f"acs:oss:local:{OWNER}:*",)
    exact = view(
        user_policies={(OWNER, "alice"): doc(allow("oss:GetObject", f"acs:oss:cn-hangzhou:{OWNER}:bkt/*"))}
    )
    assert decide(Operation.GetObject, ALICE, exact) == "allowed"
    elsewhere = view(
        user_policies={(OWNER, "alice"): doc(allow("oss:GetObject", f"acs:oss:*:{OTHER}:bkt/*"))}
    )
    assert decide(Operation.GetObject, ALICE, elsewhere) == "AccessDenied"


def test_explicit_deny_in_either_policy_wins() -> None:
    ram_deny = view(user_policies={(OWNER, "alice"): doc(allow("oss:*"), deny("oss:GetObject"))})
    assert decide(Operation.GetObject, ALICE, ram_deny) == "AccessDenied"
    bucket_deny = view(
        user_policies={(OWNER, "alice"): doc(allow("oss:*"))},
        bucket_policy=doc({**deny("oss:GetObject", "acs:oss:*:*:bkt/*"), "Principal": ["*"]}),
    )
    assert decide(Operation.GetObject, ALICE, bucket_deny) == "AccessDenied"
    assert decide(Operation.PutObject, ALICE, bucket_deny) == "allowed"
    assert decide(Operation.GetObject, ROOT, bucket_deny) == "allowed"  # '*' without a Condition


def test_another_account_needs_the_bucket_policy_and_its_own_vouching() -> None:
    grant = {
        **allow("oss:GetObject", "acs:oss:*:*:bkt/*"),
        "Principal": [OTHER, f"acs:ram::{OTHER}:user/bob"],
    }
    unvouched = view(user_policies={(OTHER, "bob"): doc()}, bucket_policy=doc(grant))
    vouched = view(user_policies={(OTHER, "bob"): doc(allow("oss:GetObject"))}, bucket_policy=doc(grant))
    no_grant = view(user_policies={(OTHER, "bob"): doc(allow("oss:GetObject"))})
    assert decide(Operation.GetObject, OTHER_ROOT, unvouched) == "allowed"
    assert decide(Operation.GetObject, BOB, unvouched) == "AccessDenied"
    assert decide(Operation.GetObject, BOB, vouched) == "allowed"
    assert decide(Operation.GetObject, BOB, no_grant) == "AccessDenied"  # its own policy is not enough
    assert decide(Operation.GetObject, OTHER_ROOT, no_grant) == "AccessDenied"


def test_anonymous_callers_get_what_acls_and_star_grants_give() -> None:
    star = view(bucket_policy=doc({**allow("oss:GetObject", "acs:oss:*:*:bkt/pub/*"), "Principal": "*"}))
    assert decide(Operation.GetObject, ANONYMOUS, star, key="pub/x") == "allowed"
    assert decide(Operation.GetObject, ANONYMOUS, star, key="priv/x") == "AccessDenied"
    public = Bucket(name="bkt", owner_id=OWNER, region="r", created_at=100.0, acl=BucketAcl.PUBLIC_READ)
    empty = view()
    assert decide(Operation.GetObject, ANONYMOUS, empty, bucket=public) == "allowed"
    assert decide(Operation.PutObject, ANONYMOUS, empty, bucket=public) == "AccessDenied"
    assert decide(Operation.GetBucketAcl, ANONYMOUS, empty, bucket=public, key=None) == "AccessDenied"
    assert decide(Operation.GetObject, ANONYMOUS, empty, acl=lambda: ObjectAcl.PUBLIC_READ) == "allowed"
    assert decide(Operation.ListBuckets, ANONYMOUS, empty, bucket=None, key=None) == "AccessDenied"


def test_service_operations_are_for_the_replication_service_only() -> None:
    service = Principal(account_id=SERVICE_ACCOUNT_ID)
    everything = view(user_policies={(OWNER, "alice"): doc(allow("*"))})
    assert decide(Operation.FerryPutReplica, service, everything) == "allowed"
    for principal in (ROOT, ALICE, ANONYMOUS):
        assert decide(Operation.FerryPutReplica, principal, everything) == "AccessDenied"


def test_a_session_policy_narrows_a_role_session() -> None:
    role_view = view(role_policies={(OWNER, "reader"): doc(allow(["oss:GetObject", "oss:ListObjects"]))})
    session = Principal(account_id=OWNER, role="reader", session="s")
    narrow = doc(allow("oss:GetObject"))
    assert decide(Operation.ListObjects, session, role_view, key=None) == "allowed"
    assert decide(Operation.ListObjects, session, role_view, key=None, session=narrow) == "AccessDenied"
    assert decide(Operation.GetObject, session, role_view, session=narrow) == "allowed"
    wider = doc(allow("oss:*"))
    assert decide(Operation.PutObject, session, role_view, session=wider) == "AccessDenied"


def test_the_owner_can_always_manage_the_bucket_policy() -> None:
    fenced = view(
        bucket_policy=doc(
            {
                **deny("oss:*", "acs:oss:*:*:bkt*"),
                "Principal": "*",
                "Condition": {"Bool": {"acs:SecureTransport": "false"}},
            }
        )
    )
    assert decide(Operation.GetObject, ROOT, fenced) == "AccessDenied"
    assert decide(Operation.DeleteBucketPolicy, ROOT, fenced, key=None) == "allowed"


def test_buckets_and_bucket_creation_of_a_ram_user_are_in_its_own_account() -> None:
    creator = view(
        user_policies={
            (OWNER, "alice"): doc(allow(["oss:PutBucket", "oss:ListBuckets"], f"acs:oss:*:{OWNER}:*"))
        }
    )
    assert decide(Operation.ListBuckets, ALICE, creator, bucket=None, key=None) == "allowed"
    assert decide(Operation.PutBucket, ALICE, creator, bucket=None, key=None) == "allowed"


# --- replicated writes -------------------------------------------------------------------------


def replica(actor: ReplicaActor, policies: IamView, op: Operation = Operation.PutObject) -> str:
    try:
        authorize_replica_write(actor, op, BUCKET, "docs/a", SCOPE, policies)
    except OssError as exc:
        return exc.code
    return "allowed"


def test_replication_within_one_account_needs_no_role() -> None:
    assert replica(ReplicaActor(OWNER, None), view()) == "allowed"
    assert replica(ReplicaActor(OWNER, "aliyunramrole"), view()) == "allowed"


def test_replication_into_another_account_needs_a_trusted_role_with_both_consents() -> None:
    writes = doc(allow(["oss:PutObject", "oss:DeleteObject"], "acs:oss:*:*:bkt/*"))
    consent = doc(
        {
            **allow(["oss:PutObject", "oss:DeleteObject"], "acs:oss:*:*:bkt/*"),
            "Principal": [f"acs:ram::{OTHER}:role/sync"],
        }
    )
    actor = ReplicaActor(OTHER, "sync")
    assert replica(ReplicaActor(OTHER, None), view(bucket_policy=consent)) == "AccessDenied"
    assert replica(actor, view(bucket_policy=consent)) == "AccessDenied"  # no such role
    assert replica(actor, view(role_policies={(OTHER, "sync"): writes})) == "AccessDenied"  # no consent
    both = view(role_policies={(OTHER, "sync"): writes}, bucket_policy=consent)
    assert replica(actor, both) == "allowed"
    assert replica(actor, both, Operation.DeleteObject) == "allowed"
    weaker = view(
        role_policies={(OTHER, "sync"): doc(allow("oss:PutObject", "acs:oss:*:*:bkt/*"))},
        bucket_policy=consent,
    )
    assert replica(actor, weaker, Operation.DeleteObject) == "AccessDenied"
    untrusted = doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{OTHER}:root"]}}
    )
    assert (
        replica(actor, view(role_policies={(OTHER, "sync"): writes}, bucket_policy=consent, trust=untrusted))
        == "AccessDenied"
    )


# The operations whose RAM action is not their own name, as OSS documents them.
DOCUMENTED_EXCEPTIONS = {
    Operation.HeadBucket: "oss:GetBucketInfo",
    Operation.ListObjectsV2: "oss:ListObjects",
    Operation.DeleteMultipleObjects: "oss:DeleteObject",
    Operation.CopyObject: "oss:PutObject",
    Operation.HeadObject: "oss:GetObject",
    Operation.GetObjectMeta: "oss:GetObject",
    Operation.InitiateMultipartUpload: "oss:PutObject",
    Operation.UploadPart: "oss:PutObject",
    Operation.UploadPartCopy: "oss:PutObject",
    Operation.CompleteMultipartUpload: "oss:PutObject",
    Operation.AppendObject: "oss:PutObject",
    Operation.PutSymlink: "oss:PutObject",
    Operation.GetSymlink: "oss:GetObject",
    Operation.PutBucketTags: "oss:PutBucketTagging",
    Operation.GetBucketTags: "oss:GetBucketTagging",
    Operation.DeleteBucketTags: "oss:DeleteBucketTagging",
    Operation.OptionBucket: "oss:OptionObject",
}


@pytest.mark.parametrize("op", [op for op in Operation if not op.name.startswith("Ferry")])
def test_every_operation_maps_to_the_action_oss_documents(op: Operation) -> None:
    assert op.action == DOCUMENTED_EXCEPTIONS.get(op, f"oss:{op.name}")
