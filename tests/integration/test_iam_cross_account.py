"""Replication into another account's bucket: only with a SyncRole the destination's owner lets
write there, and then with exactly that role's rights -- a later change of them makes later
tasks fail, visibly (``ferry replication status``), and ``ferry replication retry`` replays them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import oss2
import pytest
from oss2.models import ReplicationRule

from ferry.iam.records import TargetKind
from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.iam_helpers import Creds, Iam, allow, document, settle, unique
from tests.integration.replication_helpers import exists, wait_until

SRC, DST = "oss-cn-hangzhou", "oss-cn-beijing"


@dataclass
class Accounts:
    iam: Iam
    other_id: str
    other_root: Creds


@pytest.fixture
def accounts(cluster: FerryCluster) -> Accounts:
    iam = Iam.of(cluster)
    created = iam.admin.create_account(unique("dest-owner"))
    settle()
    return Accounts(iam, created.account.account_id, Creds(created.key.access_key_id, created.key.secret))


def code_of(call: Callable[[], Any]) -> str:
    try:
        call()
    except oss2.exceptions.OssError as exc:
        return f"{exc.status} {exc.code}"
    return "OK"


def rule_to(dst: oss2.Bucket, location: str, role: str | None) -> ReplicationRule:
    return ReplicationRule(
        rule_id="x-" + unique_bucket("r")[-8:],
        target_bucket_name=dst.bucket_name,
        target_bucket_location=location,
        sync_role_name=role,
    )


def write_policy(bucket: str) -> dict[str, Any]:
    return allow(["oss:PutObject", "oss:DeleteObject"], f"acs:oss:*:*:{bucket}/*")


def let_role_write(dst: oss2.Bucket, account: str, role: str) -> None:
    """The destination's owner lets the source account's role write into its bucket."""
    dst.put_bucket_policy(
        document(
            {
                "Effect": "Allow",
                "Principal": [f"acs:ram::{account}:role/{role}"],
                "Action": ["oss:PutObject", "oss:DeleteObject"],
                "Resource": f"acs:oss:*:*:{dst.bucket_name}/*",
            }
        )
    )


def replication_cli(cluster: FerryCluster, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ferry", "replication", *args, "--config", str(cluster.config_path)],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def failed_tasks(cluster: FerryCluster, bucket: str) -> int:
    rows = json.loads(replication_cli(cluster, "status", "--bucket", bucket, "--json"))
    return sum(row["failed"] for row in rows)


def test_cross_region_into_another_account(cluster: FerryCluster, accounts: Accounts) -> None:
    iam = accounts.iam
    src = cluster.oss2_bucket(unique_bucket("xa-src"), region=SRC)
    src.create_bucket()
    dst = accounts.other_root.bucket(cluster, unique_bucket("xa-dst"), region=DST)
    dst.create_bucket()

    # Without a SyncRole, with one that does not exist, or with one the destination does not let
    # write: InvalidTargetBucket.
    for role in (None, "no-such-role"):
        assert (
            code_of(lambda r=role: src.put_bucket_replication(rule_to(dst, DST, r)))
            == "400 InvalidTargetBucket"
        )
    role = iam.role(unique("sync"), write_policy(dst.bucket_name))
    settle()
    assert code_of(lambda: src.put_bucket_replication(rule_to(dst, DST, role))) == "400 InvalidTargetBucket"

    let_role_write(dst, iam.account, role)
    src.put_bucket_replication(rule_to(dst, DST, role))
    src.put_object("one.txt", b"first")
    wait_until(lambda: exists(dst, "one.txt"), what="the first object at the other account")
    assert dst.get_object("one.txt").read() == b"first"

    # The role loses the right to write: later tasks fail, visibly, and are kept.
    iam.admin.put_policy(
        iam.account, f"{role}-policy", document(write_policy(f"{dst.bucket_name}/elsewhere")), create=False
    )
    settle()
    src.put_object("two.txt", b"second")
    wait_until(lambda: failed_tasks(cluster, src.bucket_name) >= 1, timeout=30, what="a FAILED task")
    assert src.head_object("two.txt").headers["x-oss-replication-status"] == "FAILED"
    assert not exists(dst, "two.txt")

    # Rights restored: a retry replays the task, nothing was lost.
    iam.admin.put_policy(iam.account, f"{role}-policy", document(write_policy(dst.bucket_name)), create=False)
    settle()
    replication_cli(cluster, "retry", "--bucket", src.bucket_name)
    wait_until(lambda: exists(dst, "two.txt"), timeout=30, what="the replayed object")
    assert dst.get_object("two.txt").read() == b"second"
    wait_until(lambda: src.head_object("two.txt").headers["x-oss-replication-status"] == "COMPLETED")

    src.delete_object("one.txt")
    wait_until(lambda: not exists(dst, "one.txt"), what="the replicated delete")


def test_same_region_into_another_account(cluster: FerryCluster, accounts: Accounts) -> None:
    iam = accounts.iam
    src = cluster.oss2_bucket(unique_bucket("xs-src"), region=SRC)
    src.create_bucket()
    dst = accounts.other_root.bucket(cluster, unique_bucket("xs-dst"), region=SRC)
    dst.create_bucket()
    role = iam.role(unique("sync"), write_policy(dst.bucket_name))
    settle()
    assert code_of(lambda: src.put_bucket_replication(rule_to(dst, SRC, role))) == "400 InvalidTargetBucket"
    let_role_write(dst, iam.account, role)
    src.put_bucket_replication(rule_to(dst, SRC, role))
    src.put_object("a.txt", b"a")
    wait_until(lambda: exists(dst, "a.txt"), what="the SRR copy at the other account")

    # The destination's owner withdraws its consent: later tasks fail, and are kept.
    dst.delete_bucket_policy()
    src.put_object("b.txt", b"b")
    wait_until(lambda: failed_tasks(cluster, src.bucket_name) >= 1, timeout=30, what="a FAILED task")
    assert not exists(dst, "b.txt")
    let_role_write(dst, iam.account, role)
    replication_cli(cluster, "retry", "--bucket", src.bucket_name)
    wait_until(lambda: exists(dst, "b.txt"), timeout=30, what="the replayed SRR copy")


def test_a_role_that_does_not_trust_replication_is_no_sync_role(
    cluster: FerryCluster, accounts: Accounts
) -> None:
    iam = accounts.iam
    src = cluster.oss2_bucket(unique_bucket("xt-src"), region=SRC)
    src.create_bucket()
    dst = accounts.other_root.bucket(cluster, unique_bucket("xt-dst"), region=DST)
    dst.create_bucket()
    role = unique("untrusted")
    only_account = document(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"RAM": [f"acs:ram::{iam.account}:root"]},
        }
    )
    iam.admin.create_role(iam.account, role, trust_document=only_account)
    iam.admin.put_policy(iam.account, role, document(write_policy(dst.bucket_name)), create=True)
    iam.admin.attach(iam.account, role, system=False, kind=TargetKind.ROLE, target=role)
    let_role_write(dst, iam.account, role)
    settle()
    assert code_of(lambda: src.put_bucket_replication(rule_to(dst, DST, role))) == "400 InvalidTargetBucket"


def test_same_account_rules_need_no_role(cluster: FerryCluster) -> None:
    src = cluster.oss2_bucket(unique_bucket("sa-src"), region=SRC)
    dst = cluster.oss2_bucket(unique_bucket("sa-dst"), region=DST)
    src.create_bucket()
    dst.create_bucket()
    # The seeds' "aliyunramrole" is only echoed for a rule within one account.
    src.put_bucket_replication(rule_to(dst, DST, "aliyunramrole"))
    src.put_object("k", b"v")
    wait_until(lambda: exists(dst, "k"), what="the same-account copy")
