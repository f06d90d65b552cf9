"""The IAM tables (SQLite), the request path's directory over them, sealed secrets and STS tokens."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from ferry.core.errors import OssError
from ferry.credentials import load_iam_master_key
from ferry.iam import sts
from ferry.iam.crypto import SecretBox, derive_key
from ferry.iam.records import (
    AccountRecord,
    AttachmentRecord,
    BucketPolicyRecord,
    KeyRecord,
    KeyStatus,
    PolicyRecord,
    RoleRecord,
    TargetKind,
    UserRecord,
)
from ferry.iam.view import BootstrapKey
from ferry.service.iam_admin import IamAdmin, default_trust_policy
from ferry.service.iam_directory import IamDirectory
from ferry.storage.interfaces import AccessKey
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_iam import SqliteIamStore
from ferry.storage.sqlite_meta import SqliteMetadataStore

MASTER = b"m" * 32
ACCOUNT = "1000000000000001"


def store_at(path: Path) -> SqliteIamStore:
    return SqliteIamStore(SqliteDatabase(path))


@pytest.fixture
def store(tmp_path: Path) -> SqliteIamStore:
    return store_at(tmp_path / "meta.sqlite3")


def test_every_write_bumps_the_generation_and_load_returns_what_was_written(store: SqliteIamStore) -> None:
    assert store.generation() == 0
    account = AccountRecord(ACCOUNT, "acme", 1.0)
    user = UserRecord(ACCOUNT, "alice", "uid-1", 2.0)
    key = KeyRecord("LTAIx", ACCOUNT, "alice", "sealed", KeyStatus.ACTIVE, 3.0)
    role = RoleRecord(ACCOUNT, "sync", "rid-1", "{}", 3600, 4.0)
    policy = PolicyRecord(ACCOUNT, "p", "{}", 5.0)
    attachment = AttachmentRecord(ACCOUNT, "p", False, TargetKind.USER, "alice")
    bucket_policy = BucketPolicyRecord("bkt", 6.0, "{}")
    store.put_account(account)
    store.put_user(user)
    store.put_key(key)
    store.put_role(role)
    store.put_policy(policy)
    store.attach(attachment)
    store.attach(attachment)  # idempotent
    store.put_bucket_policy(bucket_policy)
    records = store.load()
    assert records.generation == store.generation() == 8
    assert (records.accounts, records.users, records.keys, records.roles) == (
        (account,),
        (user,),
        (key,),
        (role,),
    )
    assert (records.policies, records.attachments, records.bucket_policies) == (
        (policy,),
        (attachment,),
        (bucket_policy,),
    )
    assert store.get_bucket_policy("bkt") == bucket_policy and store.get_bucket_policy("other") is None


def test_deleting_a_user_or_role_takes_its_keys_and_attachments(store: SqliteIamStore) -> None:
    store.put_user(UserRecord(ACCOUNT, "alice", "uid-1", 1.0))
    store.put_key(KeyRecord("LTAIx", ACCOUNT, "alice", "s", KeyStatus.ACTIVE, 1.0))
    store.put_key(KeyRecord("LTAIroot", ACCOUNT, None, "s", KeyStatus.ACTIVE, 1.0))
    store.attach(AttachmentRecord(ACCOUNT, "p", False, TargetKind.USER, "alice"))
    store.put_role(RoleRecord(ACCOUNT, "sync", "rid", "{}", 3600, 1.0))
    store.attach(AttachmentRecord(ACCOUNT, "p", False, TargetKind.ROLE, "sync"))
    store.delete_user(ACCOUNT, "alice")
    store.delete_role(ACCOUNT, "sync")
    records = store.load()
    assert [k.access_key_id for k in records.keys] == ["LTAIroot"]
    assert records.users == records.roles == records.attachments == ()


def test_secrets_are_sealed_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    admin = IamAdmin([store_at(path)], MASTER, time.time)
    admin.ensure_account(ACCOUNT, "default")
    admin.create_user(ACCOUNT, "alice")
    key = admin.create_key(ACCOUNT, "alice")
    SqliteDatabase(path).conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert key.secret.encode() not in raw
    assert key.access_key_id.encode() in raw
    # ... and the request path opens them with the same master key.
    directory = IamDirectory(store_at(path), MASTER)
    resolved = directory.resolve(key.access_key_id, None, time.time())
    assert resolved is not None and resolved.secret == key.secret
    assert resolved.caller.principal.user == "alice"
    assert IamDirectory(store_at(path), b"x" * 32).resolve(key.access_key_id, None, time.time()) is None


def test_a_sealed_secret_is_bound_to_its_key_id() -> None:
    box = SecretBox(derive_key(MASTER, "secrets-at-rest"))
    sealed = box.seal("s3cret", "LTAIa")
    assert box.open(sealed, "LTAIa") == "s3cret"
    with pytest.raises(InvalidTag):
        box.open(sealed, "LTAIb")
    assert derive_key(MASTER, "a") != derive_key(MASTER, "b")


def test_the_directory_sees_changes_made_by_another_process_and_revocations(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    directory = IamDirectory(store_at(path), MASTER, refresh_seconds=0.0)
    admin = IamAdmin([store_at(path)], MASTER, time.time)  # as ``ferry iam`` would, on its own connection
    admin.ensure_account(ACCOUNT, "default")
    admin.create_user(ACCOUNT, "alice")
    key = admin.create_key(ACCOUNT, "alice")
    assert directory.resolve(key.access_key_id, None, time.time()) is not None
    admin.set_key_status(key.access_key_id, KeyStatus.INACTIVE)
    assert directory.resolve(key.access_key_id, None, time.time()) is None
    admin.set_key_status(key.access_key_id, KeyStatus.ACTIVE)
    assert directory.resolve(key.access_key_id, None, time.time()) is not None
    admin.delete_user(ACCOUNT, "alice")
    assert directory.resolve(key.access_key_id, None, time.time()) is None


def test_the_directory_reads_the_generation_at_most_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    directory = IamDirectory(store_at(path), MASTER, refresh_seconds=60.0)
    admin = IamAdmin([store_at(path)], MASTER, time.time)
    admin.ensure_account(ACCOUNT, "default")
    key = admin.create_key(ACCOUNT, None)
    assert directory.resolve(key.access_key_id, None, time.time()) is None  # not looked at yet
    directory.reload()
    assert directory.resolve(key.access_key_id, None, time.time()) is not None


def test_bootstrap_keys_resolve_without_any_table(tmp_path: Path) -> None:
    directory = IamDirectory(
        store_at(tmp_path / "m.sqlite3"), MASTER, bootstrap=[BootstrapKey("LTAIroot", "sk", ACCOUNT)]
    )
    resolved = directory.resolve("LTAIroot", None, time.time())
    assert resolved is not None and resolved.secret == "sk" and resolved.caller.principal.is_root


def test_the_iam_master_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_iam_master_key(tmp_path)
    assert load_iam_master_key(tmp_path) == first and len(first) == 32
    assert os.stat(tmp_path / "iam-master-key.json").st_mode & 0o777 == 0o600


# --- STS ---------------------------------------------------------------------------------------


def sealer() -> sts.TokenSealer:
    return sts.TokenSealer(derive_key(MASTER, "sts-tokens"))


def test_a_token_opens_only_for_its_key_and_only_unaltered() -> None:
    grant, token = sealer().issue(
        account_id=ACCOUNT, role="r", role_id="rid", session_name="s", expires_at=2e9, session_policy="{}"
    )
    assert grant.access_key_id.startswith("STS.") and token.startswith(sts.TOKEN_PREFIX)
    assert sealer().open(token, grant.access_key_id) == grant
    for bad_token, key_id in (
        (token, "STS.other"),
        (token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), grant.access_key_id),
        ("garbage", grant.access_key_id),
        (sts.TOKEN_PREFIX + "!!!", grant.access_key_id),
    ):
        with pytest.raises(OssError) as error:
            sealer().open(bad_token, key_id)
        assert error.value.code == "InvalidSecurityToken"
    other = sts.TokenSealer(derive_key(b"o" * 32, "sts-tokens"))
    with pytest.raises(OssError):
        other.open(token, grant.access_key_id)


def test_sessions_expire_and_die_with_their_role(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    admin = IamAdmin([store_at(path)], MASTER, time.time)
    admin.ensure_account(ACCOUNT, "default")
    admin.create_role(ACCOUNT, "reader")
    directory = IamDirectory(store_at(path), MASTER, refresh_seconds=0.0)
    issued = admin.assume_role(ACCOUNT, "reader", duration_seconds=900)
    key, token = issued.grant.access_key_id, issued.security_token
    resolved = directory.resolve(key, token, time.time())
    assert resolved is not None and resolved.caller.principal.role == "reader"
    assert directory.resolve(key, None, time.time()) is None  # an STS key without its token
    with pytest.raises(OssError) as expired:
        directory.resolve(key, token, time.time() + 901)
    assert (expired.value.code, expired.value.details["EC"]) == ("SecurityTokenExpired", "0002-00000007")
    admin.delete_role(ACCOUNT, "reader")
    admin.create_role(ACCOUNT, "reader")  # same name, another role: the old sessions stay dead
    with pytest.raises(OssError) as gone:
        directory.resolve(key, token, time.time())
    assert gone.value.code == "InvalidSecurityToken"


def test_assume_role_checks_trust_duration_and_session_policy(tmp_path: Path) -> None:
    admin = IamAdmin([store_at(tmp_path / "m.sqlite3")], MASTER, time.time)
    admin.ensure_account(ACCOUNT, "default")
    service_only = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["oss.aliyuncs.com"]},
                }
            ],
        }
    )
    admin.create_role(ACCOUNT, "sync", trust_document=service_only)
    admin.create_role(ACCOUNT, "short", max_session_seconds=900)
    with pytest.raises(OssError, match="trust policy"):
        admin.assume_role(ACCOUNT, "sync")
    with pytest.raises(OssError, match="duration"):
        admin.assume_role(ACCOUNT, "short", duration_seconds=3600)
    assert admin.assume_role(ACCOUNT, "short").grant.expires_at - time.time() <= 900
    with pytest.raises(OssError) as bad:
        admin.assume_role(
            ACCOUNT, "short", session_policy='{"Version": "1", "Statement": [{"Effect": "Allow"}]}'
        )
    assert bad.value.code == "InvalidPolicyDocument"
    assert "oss.aliyuncs.com" in default_trust_policy(ACCOUNT)


def test_plaintext_copies_of_bootstrap_keys_are_purged(tmp_path: Path) -> None:
    meta = SqliteMetadataStore(tmp_path / "meta.sqlite3")
    meta.put_access_key(AccessKey("LTAIroot", "plain-secret", ACCOUNT))  # as earlier versions did
    meta.put_access_key(AccessKey("LTAIother", "kept", ACCOUNT))
    SqliteIamStore(meta.db).purge_plaintext_keys(["LTAIroot", "FERRYSVCx"])
    assert meta.get_access_key("LTAIroot") is None
    assert meta.get_access_key("LTAIother") is not None
