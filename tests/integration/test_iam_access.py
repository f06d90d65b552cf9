"""RAM users against real region processes: object and bucket operations, Deny over Allow,
wildcards, resource prefixes, conditions, revoked keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import oss2
import pytest
import requests

from ferry.iam.records import KeyStatus
from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.iam_helpers import Iam, allow, deny, document, settle


@pytest.fixture
def iam(cluster: FerryCluster) -> Iam:
    return Iam.of(cluster)


@pytest.fixture
def bucket(cluster: FerryCluster) -> oss2.Bucket:
    """A bucket of the default account (made with its owner key) holding one object."""
    b = cluster.oss2_bucket(unique_bucket("iam"))
    b.create_bucket()
    b.put_object("docs/readme.txt", b"hello")
    return b


def code_of(call: Callable[[], Any]) -> str:
    try:
        call()
    except oss2.exceptions.OssError as exc:
        return f"{exc.status} {exc.code}"
    return "OK"


def arn(bucket: oss2.Bucket, path: str = "") -> str:
    return f"acs:oss:*:*:{bucket.bucket_name}{path}"


# --- a sample of object and bucket operations: lacking the action -> 403, holding it -> OK ---------

OPERATIONS: list[tuple[str, Callable[[oss2.Bucket], Any]]] = [
    ("oss:PutObject", lambda b: b.put_object("docs/new.txt", b"x")),
    ("oss:GetObject", lambda b: b.get_object("docs/readme.txt").read()),
    ("oss:DeleteObject", lambda b: b.delete_object("docs/readme.txt")),
    ("oss:ListObjects", lambda b: b.list_objects()),
    ("oss:GetBucketInfo", lambda b: b.get_bucket_info()),
    ("oss:GetBucketAcl", lambda b: b.get_bucket_acl()),
    ("oss:PutBucketAcl", lambda b: b.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)),
    ("oss:GetBucketVersioning", lambda b: b.get_bucket_versioning()),
    ("oss:PutObjectAcl", lambda b: b.put_object_acl("docs/readme.txt", oss2.OBJECT_ACL_PRIVATE)),
    ("oss:GetObjectTagging", lambda b: b.get_object_tagging("docs/readme.txt")),
]


@pytest.mark.parametrize(("action", "call"), OPERATIONS, ids=[a for a, _ in OPERATIONS])
def test_each_operation_needs_its_action(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket, action: str, call: Callable[[oss2.Bucket], Any]
) -> None:
    everything_else = [a for a, _ in OPERATIONS if a != action]
    lacking = iam.user(allow(everything_else, [arn(bucket), arn(bucket, "/*")]), wait=False)
    holding = iam.user(allow(action, [arn(bucket), arn(bucket, "/*")]))
    assert code_of(lambda: call(lacking.bucket(cluster, bucket.bucket_name))) == "403 AccessDenied"
    assert code_of(lambda: call(holding.bucket(cluster, bucket.bucket_name, v4=True))) == "OK"


def test_list_buckets_and_put_bucket_for_a_ram_user(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    nothing = iam.user(allow("oss:GetObject"), wait=False)
    creator = iam.user(allow(["oss:ListBuckets", "oss:PutBucket"], "acs:oss:*:*:*"))
    assert code_of(lambda: nothing.service(cluster).list_buckets()) == "403 AccessDenied"
    name = unique_bucket("iam-made")
    assert code_of(lambda: nothing.bucket(cluster, name).create_bucket()) == "403 AccessDenied"
    creator.bucket(cluster, name).create_bucket()
    names = [b.name for b in oss2.BucketIterator(creator.service(cluster))]
    # The bucket belongs to the user's account: the owner key sees it, and so does the user.
    assert name in names and bucket.bucket_name in names
    assert cluster.oss2_bucket(name).get_bucket_info().owner.id == iam.account


def test_copy_needs_get_on_the_source_and_put_on_the_target(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    only_put = iam.user(allow("oss:PutObject", arn(bucket, "/*")), wait=False)
    both = iam.user(allow(["oss:PutObject", "oss:GetObject"], arn(bucket, "/*")))
    copy = lambda creds: creds.bucket(cluster, bucket.bucket_name).copy_object(  # noqa: E731
        bucket.bucket_name, "docs/readme.txt", "copies/readme.txt"
    )
    assert code_of(lambda: copy(only_put)) == "403 AccessDenied"
    assert code_of(lambda: copy(both)) == "OK"


def test_batch_delete_is_authorized_per_key(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    bucket.put_object("tmp/a", b"a")
    bucket.put_object("keep/b", b"b")
    user = iam.user(allow("oss:DeleteObject", arn(bucket, "/tmp/*")))
    mine = user.bucket(cluster, bucket.bucket_name)
    assert code_of(lambda: mine.batch_delete_objects(["tmp/a", "keep/b"])) == "403 AccessDenied"
    assert bucket.object_exists("tmp/a") and bucket.object_exists("keep/b")
    assert mine.batch_delete_objects(["tmp/a"]).deleted_keys == ["tmp/a"]


# --- the policy language -------------------------------------------------------------------------


def test_explicit_deny_beats_allow(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user(allow("oss:*"), deny("oss:DeleteObject", arn(bucket, "/docs/*")))
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("docs/readme.txt").read() == b"hello"
    assert code_of(lambda: mine.delete_object("docs/readme.txt")) == "403 AccessDenied"
    mine.put_object("other/x", b"x")
    mine.delete_object("other/x")


def test_no_allow_means_access_denied(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user()  # a user with no policy at all
    assert code_of(lambda: user.bucket(cluster, bucket.bucket_name).get_object("docs/readme.txt")) == (
        "403 AccessDenied"
    )


def test_action_wildcards(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    reader = iam.user(allow(["oss:Get*", "oss:List*"], [arn(bucket), arn(bucket, "/*")]))
    mine = reader.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("docs/readme.txt").read() == b"hello"
    assert [o.key for o in mine.list_objects().object_list] == ["docs/readme.txt"]
    assert mine.get_bucket_acl().acl == "private"
    assert code_of(lambda: mine.put_object("docs/new", b"x")) == "403 AccessDenied"


def test_resource_prefixes(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    bucket.put_object("public/p.txt", b"p")
    user = iam.user(allow(["oss:GetObject", "oss:PutObject"], arn(bucket, "/public/*")))
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("public/p.txt").read() == b"p"
    mine.put_object("public/q.txt", b"q")
    assert code_of(lambda: mine.get_object("docs/readme.txt")) == "403 AccessDenied"
    assert code_of(lambda: mine.put_object("private/q.txt", b"q")) == "403 AccessDenied"


def test_conditions_ip_range_secure_transport_and_prefix(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    from_loopback = iam.user(
        allow("oss:GetObject", arn(bucket, "/*"), Condition={"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}),
        wait=False,
    )
    from_elsewhere = iam.user(
        allow("oss:GetObject", arn(bucket, "/*"), Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}),
        wait=False,
    )
    tls_only = iam.user(
        allow("oss:GetObject", arn(bucket, "/*"), Condition={"Bool": {"acs:SecureTransport": "true"}}),
        wait=False,
    )
    lister = iam.user(
        allow("oss:ListObjects", arn(bucket), Condition={"StringLike": {"oss:Prefix": "docs/*"}}),
    )
    get = lambda creds: creds.bucket(cluster, bucket.bucket_name).get_object("docs/readme.txt").read()  # noqa: E731
    assert get(from_loopback) == b"hello"
    assert code_of(lambda: get(from_elsewhere)) == "403 AccessDenied"
    assert code_of(lambda: get(tls_only)) == "403 AccessDenied"  # the test talks plain HTTP
    listing = lister.bucket(cluster, bucket.bucket_name)
    assert [o.key for o in listing.list_objects(prefix="docs/").object_list] == ["docs/readme.txt"]
    assert code_of(lambda: listing.list_objects(prefix="other/")) == "403 AccessDenied"
    assert code_of(lambda: listing.list_objects()) == "403 AccessDenied"


# --- keys -----------------------------------------------------------------------------------------


def test_revoked_and_disabled_keys(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user(allow("oss:GetObject", arn(bucket, "/*")))
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("docs/readme.txt").read() == b"hello"

    iam.admin.set_key_status(user.access_key_id, KeyStatus.INACTIVE)
    settle()
    assert code_of(lambda: mine.get_object("docs/readme.txt")) == "403 InvalidAccessKeyId"
    iam.admin.set_key_status(user.access_key_id, KeyStatus.ACTIVE)
    settle()
    assert mine.get_object("docs/readme.txt").read() == b"hello"
    iam.admin.delete_key(user.access_key_id)
    settle()
    for v4 in (False, True):
        revoked = user.bucket(cluster, bucket.bucket_name, v4=v4)
        assert code_of(lambda b=revoked: b.get_object("docs/readme.txt")) == "403 InvalidAccessKeyId"


def test_policy_changes_apply_to_later_requests_without_restart(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    user = iam.user(allow("oss:GetObject", arn(bucket, "/*")))
    mine = user.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("docs/readme.txt").read() == b"hello"
    assert user.user_name is not None
    iam.admin.put_policy(
        iam.account, user.user_name, document(allow("oss:ListObjects", arn(bucket))), create=False
    )
    settle()
    assert code_of(lambda: mine.get_object("docs/readme.txt")) == "403 AccessDenied"
    assert mine.list_objects().object_list


def test_v2_sdk_with_a_ram_user(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss

    user = iam.user(allow("oss:GetObject", arn(bucket, "/*")))
    for v1 in (False, True):
        client = user.v2_client(cluster, v1=v1)
        got = client.get_object(oss.GetObjectRequest(bucket=bucket.bucket_name, key="docs/readme.txt"))
        assert got.body.read() == b"hello"
        with pytest.raises(oss.exceptions.OperationError) as error:
            client.put_object(oss.PutObjectRequest(bucket=bucket.bucket_name, key="k", body=b"x"))
        service_error = error.value.unwrap()
        assert (service_error.status_code, service_error.code) == (403, "AccessDenied")


def test_presigned_url_of_a_ram_user_is_checked_against_its_policy(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    user = iam.user(allow("oss:GetObject", arn(bucket, "/docs/*")))
    for v4 in (False, True):
        mine = user.bucket(cluster, bucket.bucket_name, v4=v4)
        assert requests.get(mine.sign_url("GET", "docs/readme.txt", 60), timeout=10).content == b"hello"
        assert requests.put(mine.sign_url("PUT", "docs/x", 60), data=b"x", timeout=10).status_code == 403


def test_secrets_are_not_logged(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    user = iam.user(allow("oss:GetObject", arn(bucket, "/*")))
    user.bucket(cluster, bucket.bucket_name).get_object("docs/readme.txt").read()
    assert (
        code_of(lambda: user.bucket(cluster, bucket.bucket_name).put_object("x", b"x")) == "403 AccessDenied"
    )
    log = (cluster.root / "ferry-up.log").read_text()
    assert user.secret not in log
