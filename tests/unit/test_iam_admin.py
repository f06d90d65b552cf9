"""``ferry iam`` administration over several regions' stores."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ferry.cli import app
from ferry.core.errors import OssError
from ferry.iam.records import KeyStatus, TargetKind, UserRecord
from ferry.service.iam_admin import IamAdmin
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_iam import SqliteIamStore

MASTER = b"k" * 32
ACCOUNT = "1000000000000001"
POLICY = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}]}
)


@pytest.fixture
def stores(tmp_path: Path) -> list[SqliteIamStore]:
    return [SqliteIamStore(SqliteDatabase(tmp_path / f"r{i}" / "meta.sqlite3")) for i in range(2)]


@pytest.fixture
def admin(stores: list[SqliteIamStore]) -> IamAdmin:
    a = IamAdmin(stores, MASTER, time.time)
    a.ensure_account(ACCOUNT, "default")
    return a


def code(fn: Callable[..., object], *args: object, **kwargs: object) -> str:
    try:
        fn(*args, **kwargs)
    except OssError as exc:
        return exc.code
    return "OK"


def test_every_region_gets_the_same_records(admin: IamAdmin, stores: list[SqliteIamStore]) -> None:
    admin.create_user(ACCOUNT, "alice")
    admin.create_key(ACCOUNT, "alice")
    admin.put_policy(ACCOUNT, "read", POLICY, create=True)
    admin.attach(ACCOUNT, "read", system=False, kind=TargetKind.USER, target="alice")
    admin.create_role(ACCOUNT, "sync")
    admin.attach(ACCOUNT, "AliyunOSSFullAccess", system=True, kind=TargetKind.ROLE, target="sync")
    first, second = (s.load() for s in stores)
    for field in ("accounts", "users", "keys", "roles", "policies", "attachments"):
        assert getattr(first, field) == getattr(second, field), field
    assert len(first.keys) == 1 and len(first.attachments) == 2


def test_an_interrupted_command_is_completed_by_running_it_again(
    admin: IamAdmin, stores: list[SqliteIamStore]
) -> None:
    stores[0].put_user(UserRecord(ACCOUNT, "alice", "uid-alice", 1.0))  # reached the first region only
    user = admin.create_user(ACCOUNT, "alice")
    assert user.user_id == "uid-alice"
    assert stores[1].load().users == stores[0].load().users
    assert code(admin.create_user, ACCOUNT, "alice") == "EntityAlreadyExists"


def test_errors_of_administration(admin: IamAdmin) -> None:
    assert code(admin.create_user, ACCOUNT, "bad name!") == "InvalidArgument"
    assert code(admin.create_key, ACCOUNT, "nobody") == "EntityNotExist"
    assert code(admin.put_policy, ACCOUNT, "p", '{"Version": "1"}', create=False) == "InvalidPolicyDocument"
    assert code(admin.put_policy, ACCOUNT, "p", POLICY, create=False) == "EntityNotExist"
    admin.put_policy(ACCOUNT, "p", POLICY, create=True)
    assert code(admin.put_policy, ACCOUNT, "p", POLICY, create=True) == "EntityAlreadyExists"
    admin.create_user(ACCOUNT, "alice")
    admin.attach(ACCOUNT, "p", system=False, kind=TargetKind.USER, target="alice")
    assert code(admin.delete_policy, ACCOUNT, "p") == "InvalidArgument"  # still attached
    admin.detach(ACCOUNT, "p", system=False, kind=TargetKind.USER, target="alice")
    assert code(admin.delete_policy, ACCOUNT, "p") == "OK"
    assert code(
        admin.attach, ACCOUNT, "NoSuchSystemPolicy", system=True, kind=TargetKind.USER, target="alice"
    ) == ("EntityNotExist")
    assert code(
        admin.attach, ACCOUNT, "AliyunOSSReadOnlyAccess", system=True, kind=TargetKind.ROLE, target="x"
    ) == ("EntityNotExist")
    assert code(admin.create_role, ACCOUNT, "r", max_session_seconds=60) == "InvalidArgument"
    assert code(admin.delete_key, "LTAInothing") == "EntityNotExist"
    assert code(admin.account, "no-such-account") == "EntityNotExist"


def test_keys_can_be_disabled_enabled_and_deleted_everywhere(
    admin: IamAdmin, stores: list[SqliteIamStore]
) -> None:
    key = admin.create_key(ACCOUNT, None)
    admin.set_key_status(key.access_key_id, KeyStatus.INACTIVE)
    assert {s.load().keys[0].status for s in stores} == {KeyStatus.INACTIVE}
    admin.delete_key(key.access_key_id)
    assert all(s.load().keys == () for s in stores)


def test_accounts_have_their_own_owner_key(admin: IamAdmin) -> None:
    created = admin.create_account("acme")
    assert created.key.user_name is None and created.key.account_id == created.account.account_id
    assert admin.account("acme") == admin.account(created.account.account_id) == created.account


def test_the_cli_prints_a_secret_once_and_lists_no_secret(tmp_path: Path) -> None:
    config = tmp_path / "ferry.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[region]]\nname = "oss-cn-hangzhou"\n'
        'listen = "127.0.0.1:1"\nendpoint = "http://127.0.0.1:1"\n'
    )
    runner = CliRunner()
    no_default = runner.invoke(app, ["iam", "create-user", "alice", "--config", str(config)])
    assert no_default.exit_code == 1 and "start Ferry once" in no_default.output
    made = runner.invoke(app, ["iam", "create-account", "acme", "--config", str(config), "--json"])
    assert made.exit_code == 0, made.output
    secret = json.loads(made.output)["AccessKeySecret"]
    user = runner.invoke(app, ["iam", "create-user", "bob", "--account", "acme", "--config", str(config)])
    assert user.exit_code == 0, user.output
    listing = runner.invoke(app, ["iam", "list", "--config", str(config), "--json"])
    assert listing.exit_code == 0 and secret not in listing.output
    assert [u["name"] for u in json.loads(listing.output)["Users"]] == ["bob"]
