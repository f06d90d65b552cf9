"""STS temporary credentials: issued for a role, carried as x-oss-security-token (or the
security-token parameter of presigned URLs), limited by the role's policy, and expiring."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import oss2
import pytest
import requests

from ferry.iam.records import TargetKind
from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.iam_helpers import Iam, allow, document, settle, unique


@pytest.fixture
def iam(cluster: FerryCluster) -> Iam:
    return Iam.of(cluster)


@pytest.fixture
def bucket(cluster: FerryCluster) -> oss2.Bucket:
    b = cluster.oss2_bucket(unique_bucket("sts"))
    b.create_bucket()
    b.put_object("in/a.txt", b"alpha")
    return b


def code_of(call: Callable[[], Any]) -> str:
    try:
        call()
    except oss2.exceptions.OssError as exc:
        return f"{exc.status} {exc.code}"
    return "OK"


def reader_role(iam: Iam, bucket: oss2.Bucket) -> str:
    name = unique("reader")
    iam.role(name, allow(["oss:GetObject", "oss:ListObjects"], [f"acs:oss:*:*:{bucket.bucket_name}*"]))
    return name


def test_sts_credentials_work_with_both_sdks_and_both_signatures(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    import alibabacloud_oss_v2 as oss

    session = iam.session(reader_role(iam, bucket))
    settle()
    for v4 in (False, True):
        assert session.bucket(cluster, bucket.bucket_name, v4=v4).get_object("in/a.txt").read() == b"alpha"
        sts_bucket = session.bucket(cluster, bucket.bucket_name, v4=v4)
        url = sts_bucket.sign_url("GET", "in/a.txt", 60)
        assert ("security-token=" in url) and requests.get(url, timeout=10).content == b"alpha"
    for v1 in (False, True):
        client = session.v2_client(cluster, v1=v1)
        got = client.get_object(oss.GetObjectRequest(bucket=bucket.bucket_name, key="in/a.txt"))
        assert got.body.read() == b"alpha"


def test_a_session_is_limited_by_the_role_policy(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    role = reader_role(iam, bucket)
    session = iam.session(role)
    settle()
    mine = session.bucket(cluster, bucket.bucket_name)
    assert [o.key for o in mine.list_objects().object_list] == ["in/a.txt"]
    assert code_of(lambda: mine.put_object("in/b.txt", b"b")) == "403 AccessDenied"
    assert code_of(lambda: mine.delete_object("in/a.txt")) == "403 AccessDenied"
    # The role's policy is read at each request: widening it widens the session already issued.
    iam.admin.put_policy(
        iam.account,
        f"{role}-policy",
        document(allow(["oss:GetObject", "oss:PutObject"], f"acs:oss:*:*:{bucket.bucket_name}/*")),
        create=False,
    )
    settle()
    mine.put_object("in/b.txt", b"b")
    assert code_of(lambda: mine.list_objects()) == "403 AccessDenied"


def test_a_session_policy_narrows_the_role(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    role = reader_role(iam, bucket)
    narrow = document(allow("oss:GetObject", f"acs:oss:*:*:{bucket.bucket_name}/in/*"))
    session = iam.session(role, session_policy=narrow)
    settle()
    mine = session.bucket(cluster, bucket.bucket_name)
    assert mine.get_object("in/a.txt").read() == b"alpha"
    with pytest.raises(oss2.exceptions.AccessDenied) as denied:
        mine.list_objects()
    assert "session policy" in denied.value.message


def test_expired_wrong_and_missing_tokens(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    role = reader_role(iam, bucket)
    expired = iam.session(role, duration_seconds=900, now=time.time() - 901)
    valid = iam.session(role)
    settle()
    get = lambda creds, v4=False: creds.bucket(cluster, bucket.bucket_name, v4=v4).get_object("in/a.txt")  # noqa: E731
    forged = (valid.security_token or "")[:-6] + "AAAAAA"
    for v4 in (False, True):
        assert code_of(lambda v=v4: get(expired, v)) == "403 SecurityTokenExpired"
        # A token of another session, or a forged one, is not this key's token.
        assert code_of(lambda v=v4: get(replace(valid, security_token=expired.security_token), v)) == (
            "403 InvalidSecurityToken"
        )
        assert (
            code_of(lambda v=v4: get(replace(valid, security_token=forged), v)) == "403 InvalidSecurityToken"
        )
        assert code_of(lambda v=v4: get(replace(valid, security_token=None), v)) == "403 InvalidAccessKeyId"
        assert get(valid, v4).read() == b"alpha"
    response = requests.get(
        expired.bucket(cluster, bucket.bucket_name).sign_url("GET", "in/a.txt", 60), timeout=10
    )
    assert response.status_code == 403 and b"<Code>SecurityTokenExpired</Code>" in response.content
    assert response.headers["x-oss-ec"] == "0002-00000007"


def test_deleting_the_role_ends_its_sessions(cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket) -> None:
    role = reader_role(iam, bucket)
    session = iam.session(role)
    settle()
    assert session.bucket(cluster, bucket.bucket_name).get_object("in/a.txt").read() == b"alpha"
    iam.admin.detach(iam.account, f"{role}-policy", system=False, kind=TargetKind.ROLE, target=role)
    iam.admin.delete_role(iam.account, role)
    settle()
    assert code_of(lambda: session.bucket(cluster, bucket.bucket_name).get_object("in/a.txt")) == (
        "403 InvalidSecurityToken"
    )


def test_ferry_iam_cli_issues_credentials_the_seed_samples_can_use(
    cluster: FerryCluster, iam: Iam, bucket: oss2.Bucket
) -> None:
    """``ferry iam`` end to end (user, policy, role, assume-role), then a seed sample run with the
    temporary credentials in the environment, as the seeds say one may."""
    dst = cluster.oss2_bucket(unique_bucket("sts-dst"))
    dst.create_bucket()
    bucket.put_bucket_replication(
        oss2.models.ReplicationRule(
            rule_id="sts-rule", target_bucket_name=dst.bucket_name, target_bucket_location="oss-cn-hangzhou"
        )
    )
    role = unique("ops")
    policy_file = cluster.root / f"{role}.json"
    policy_file.write_text(
        document(allow(["oss:GetBucketReplication*"], f"acs:oss:*:*:{bucket.bucket_name}"))
    )
    cli(cluster, "create-role", role)
    cli(cluster, "create-policy", f"{role}-p", "--document", str(policy_file))
    cli(cluster, "attach-policy", f"{role}-p", "--role", role)
    issued = json.loads(cli(cluster, "assume-role", role, "--session", "seed-run", "--json"))
    assert set(issued) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}
    settle()
    env = {
        **cluster.env,
        "OSS_ACCESS_KEY_ID": issued["AccessKeyId"],
        "OSS_ACCESS_KEY_SECRET": issued["AccessKeySecret"],
        "OSS_SESSION_TOKEN": issued["SecurityToken"],
    }
    from tests.integration.test_replication_seeds import SAMPLES

    common = [
        "--region",
        "cn-hangzhou",
        "--endpoint",
        cluster.region().endpoint,
        "--bucket",
        bucket.bucket_name,
    ]
    run = lambda name, *extra: subprocess.run(  # noqa: E731
        [sys.executable, str(SAMPLES / name), *common, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    progress = run("v2_get_bucket_replication_progress.py", "--rule_id", "sts-rule")
    assert progress.returncode == 0, progress.stderr
    assert "sts-rule" in progress.stdout
    # The role's policy does not include oss:DeleteBucketReplication.
    refused = run("v2_delete_bucket_replication.py", "--rule_id", "sts-rule")
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr + refused.stdout
    assert issued["AccessKeySecret"] not in (cluster.root / "ferry-up.log").read_text()


def cli(cluster: FerryCluster, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ferry", "iam", *args, "--config", str(cluster.config_path)],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
