"""Bucket policies: the three APIs, and how they combine with RAM policies and ACLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import oss2
import pytest
import requests

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.iam_helpers import Creds, Iam, allow, deny, document, settle, unique


@pytest.fixture
def iam(cluster: FerryCluster) -> Iam:
    return Iam.of(cluster)


@pytest.fixture
def bucket(cluster: FerryCluster) -> oss2.Bucket:
    b = cluster.oss2_bucket(unique_bucket("bp"))
    b.create_bucket()
    b.put_object("shared/s.txt", b"shared")
    b.put_object("secret/t.txt", b"secret")
    return b


def code_of(call: Callable[[], Any]) -> str:
    try:
        call()
    except oss2.exceptions.OssError as exc:
        return f"{exc.status} {exc.code}"
    return "OK"


def statement(effect: str, principal: Any, actions: Any, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": actions, "Resource": resource, **extra}


def other_account(iam: Iam) -> tuple[str, Creds]:
    created = iam.admin.create_account(unique("acct"))
    settle()
    return created.account.account_id, Creds(created.key.access_key_id, created.key.secret)


def test_put_get_delete_bucket_policy_with_oss2(bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        bucket.get_bucket_policy()
    policy = document(
        statement("Allow", ["*"], ["oss:GetObject"], f"acs:oss:*:*:{bucket.bucket_name}/shared/*")
    )
    bucket.put_bucket_policy(policy)
    assert json.loads(bucket.get_bucket_policy().policy) == json.loads(policy)
    assert bucket.delete_bucket_policy().status == 204
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        bucket.get_bucket_policy()


@pytest.mark.parametrize(
    "bad",
    [
        '{"Version": 1, "Statement": []}',  # OSS's own example: Version must be the string "1"
        "not json",
        '{"Version": "1", "Statement": [{"Effect": "Maybe", "Action": "oss:*", "Resource": "*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*",'
        ' "Condition": {"IpAddress": {"acs:SourceIp": "not-an-ip"}}}]}',
    ],
)
def test_an_invalid_policy_is_refused(bucket: oss2.Bucket, bad: str) -> None:
    assert code_of(lambda: bucket.put_bucket_policy(bad)) == "400 InvalidPolicyDocument"


def test_anonymous_access_granted_by_a_bucket_policy(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    url = f"{cluster.region().endpoint}/{bucket.bucket_name}"
    assert requests.get(f"{url}/shared/s.txt", timeout=10).status_code == 403
    bucket.put_bucket_policy(
        document(statement("Allow", "*", "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/shared/*"))
    )
    assert requests.get(f"{url}/shared/s.txt", timeout=10).content == b"shared"
    assert requests.get(f"{url}/secret/t.txt", timeout=10).status_code == 403
    assert requests.put(f"{url}/shared/new", data=b"x", timeout=10).status_code == 403


def test_another_account_needs_the_bucket_policy(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    other_id, other_root = other_account(iam)
    theirs = other_root.bucket(cluster, bucket.bucket_name)
    assert code_of(lambda: theirs.get_object("shared/s.txt")) == "403 AccessDenied"
    bucket.put_bucket_policy(
        document(
            statement("Allow", [other_id], ["oss:GetObject"], f"acs:oss:*:*:{bucket.bucket_name}/shared/*")
        )
    )
    assert theirs.get_object("shared/s.txt").read() == b"shared"
    assert code_of(lambda: theirs.get_object("secret/t.txt")) == "403 AccessDenied"
    assert code_of(lambda: theirs.put_object("shared/x", b"x")) == "403 AccessDenied"


def test_a_ram_user_of_another_account_needs_both_policies(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    other_id, _ = other_account(iam)
    unvouched = iam.user(account=other_id, wait=False)
    vouched = iam.user(allow("oss:GetObject", "acs:oss:*:*:*"), account=other_id)
    names = [f"acs:ram::{other_id}:user/{c.user_name}" for c in (unvouched, vouched)]
    bucket.put_bucket_policy(
        document(statement("Allow", names, "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/*"))
    )
    get = lambda creds: creds.bucket(cluster, bucket.bucket_name).get_object("shared/s.txt").read()  # noqa: E731
    assert code_of(lambda: get(unvouched)) == "403 AccessDenied"
    assert get(vouched) == b"shared"


def test_a_bucket_policy_can_grant_a_ram_user_of_the_owner(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    user = iam.user()  # no RAM policy at all
    user_id = next(u.user_id for u in iam.admin.records().users if u.name == user.user_name)
    bucket.put_bucket_policy(
        document(statement("Allow", [user_id], "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/shared/*"))
    )
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("shared/s.txt").read() == b"shared"
    assert code_of(lambda: mine.get_object("secret/t.txt")) == "403 AccessDenied"


def test_a_bucket_policy_deny_beats_a_ram_allow(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user(allow("oss:*"))
    bucket.put_bucket_policy(
        document(statement("Deny", "*", "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/secret/*"))
    )
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("shared/s.txt").read() == b"shared"
    assert code_of(lambda: mine.get_object("secret/t.txt")) == "403 AccessDenied"
    # A Deny for "*" without a Condition does not apply to the owner's own key ...
    assert bucket.get_object("secret/t.txt").read() == b"secret"


def test_a_conditional_deny_fences_in_the_owner_too_but_cannot_lock_out_the_policy(
    cluster: FerryCluster, bucket: oss2.Bucket
) -> None:
    bucket.put_bucket_policy(
        document(
            statement(
                "Deny",
                "*",
                "oss:*",
                f"acs:oss:*:*:{bucket.bucket_name}*",
                Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            )
        )
    )
    assert code_of(lambda: bucket.get_object("shared/s.txt")) == "403 AccessDenied"
    assert code_of(lambda: bucket.put_object("x", b"x")) == "403 AccessDenied"
    # The owner key can always read and remove the bucket policy itself.
    assert "NotIpAddress" in bucket.get_bucket_policy().policy
    bucket.delete_bucket_policy()
    assert bucket.get_object("shared/s.txt").read() == b"shared"


def test_bucket_policy_apis_need_their_actions(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    reader = iam.user(allow("oss:GetBucketPolicy", f"acs:oss:*:*:{bucket.bucket_name}"), wait=False)
    writer = iam.user(
        allow(["oss:PutBucketPolicy", "oss:DeleteBucketPolicy"], f"acs:oss:*:*:{bucket.bucket_name}")
    )
    policy = document(statement("Allow", "*", "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/shared/*"))
    assert code_of(lambda: reader.bucket(cluster, bucket.bucket_name).put_bucket_policy(policy)) == (
        "403 AccessDenied"
    )
    writer.bucket(cluster, bucket.bucket_name).put_bucket_policy(policy)
    assert json.loads(reader.bucket(cluster, bucket.bucket_name).get_bucket_policy().policy) == json.loads(
        policy
    )
    assert (
        code_of(lambda: writer.bucket(cluster, bucket.bucket_name).get_bucket_policy()) == "403 AccessDenied"
    )
    writer.bucket(cluster, bucket.bucket_name).delete_bucket_policy()


def test_a_recreated_bucket_does_not_inherit_the_policy(cluster: FerryCluster) -> None:
    name = unique_bucket("bp-again")
    first = cluster.oss2_bucket(name)
    first.create_bucket()
    first.put_bucket_policy(document(statement("Allow", "*", "oss:GetObject", f"acs:oss:*:*:{name}/*")))
    first.delete_bucket()
    first.create_bucket()
    first.put_object("k", b"v")
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        first.get_bucket_policy()
    assert requests.get(f"{cluster.region().endpoint}/{name}/k", timeout=10).status_code == 403


def test_deny_in_the_ram_policy_of_the_caller(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user(deny("oss:GetObject", "*"))
    bucket.put_bucket_policy(
        document(statement("Allow", "*", "oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/*"))
    )
    assert code_of(lambda: user.bucket(cluster, bucket.bucket_name).get_object("shared/s.txt")) == (
        "403 AccessDenied"
    )
    url = f"{cluster.region().endpoint}/{bucket.bucket_name}/shared/s.txt"
    assert requests.get(url, timeout=10).content == b"shared"  # anonymous: allowed by "*"


def test_requester_pays_accepts_the_payer_in_a_presigned_url(cluster: FerryCluster, iam: Iam) -> None:
    """A presigned URL may name the payer as a query parameter (what oss2's ``sign_url`` with
    ``params={"x-oss-request-payer": "requester"}`` sends) instead of the header."""
    owner = cluster.oss2_bucket(unique_bucket("rp"))
    owner.create_bucket()
    owner.put_object("k", b"paid")
    owner.put_bucket_request_payment("Requester")
    payer_id, payer = other_account(iam)
    owner.put_bucket_policy(
        document(statement("Allow", [payer_id], ["oss:GetObject"], f"acs:oss:*:*:{owner.bucket_name}/*"))
    )
    settle()
    as_payer = oss2.Bucket(payer.oss2_auth(), cluster.region().endpoint, owner.bucket_name)
    plain = as_payer.sign_url("GET", "k", 60)
    assert requests.get(plain, timeout=10).status_code == 403
    paid = as_payer.sign_url("GET", "k", 60, params={"x-oss-request-payer": "requester"})
    response = requests.get(paid, timeout=10)
    assert (response.status_code, response.content) == (200, b"paid")
