"""``ferry iam ...``: accounts, RAM users, access keys, roles, policies and STS credentials.

Every command writes to the IAM tables of every region of the config (running or not); running
servers pick the change up within a fraction of a second.  Secrets are printed once, on the
command's standard output, and never logged.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ferry.config import ConfigError, FerryConfig, load_config
from ferry.core.errors import OssError
from ferry.credentials import load_iam_master_key, root_account_id
from ferry.iam.records import DEFAULT_ACCOUNT_NAME, KeyStatus, TargetKind
from ferry.service.iam_admin import IamAdmin
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_iam import SqliteIamStore

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Accounts, RAM users, keys, roles, policies, STS."
)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config (default: built-in).")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Override the config's data_dir.")]
AccountOption = Annotated[
    str | None, typer.Option("--account", help="Account name or ID (default: the default account).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DocumentOption = Annotated[
    Path, typer.Option("--document", help="The policy document (a file, or - for stdin).")
]


def _load(config: Path | None, data_dir: Path | None) -> FerryConfig:
    try:
        return load_config(config, data_dir=data_dir.resolve() if data_dir else None)
    except (ConfigError, OSError) as exc:
        raise typer.BadParameter(str(exc)) from None


def admin_for(config: FerryConfig) -> IamAdmin:
    """An admin over the IAM tables of every region of ``config``."""
    stores = [SqliteIamStore(SqliteDatabase(region.data_dir / "meta.sqlite3")) for region in config.regions]
    return IamAdmin(stores, load_iam_master_key(config.data_dir), time.time)


def account_id_of(admin: IamAdmin, config: FerryConfig, account: str | None) -> str:
    if account is not None:
        return admin.account(account).account_id
    default = root_account_id(config.data_dir)
    if default is None:
        raise OssError("EntityNotExist", "No default account yet: start Ferry once (ferry up) first.")
    return admin.ensure_account(default, DEFAULT_ACCOUNT_NAME).account_id


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except OssError as exc:
        typer.echo(f"Error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _read(path: Path) -> str:
    return sys.stdin.read() if str(path) == "-" else path.read_text()


def _emit(as_json: bool, data: dict[str, Any], text: Callable[[], str]) -> None:
    typer.echo(json.dumps(data, indent=2) if as_json else text())


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _admin(config: Path | None, data_dir: Path | None, account: str | None) -> tuple[IamAdmin, str]:
    loaded = _load(config, data_dir)
    admin = admin_for(loaded)
    return admin, account_id_of(admin, loaded, account)


@app.command("create-account")
def create_account(
    name: str, config: ConfigOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Create an account (an owner of buckets) and its owner key (the secret is shown once)."""
    with _errors():
        created = admin_for(_load(config, data_dir)).create_account(name)
    data = {
        "AccountId": created.account.account_id,
        "AccountName": name,
        "AccessKeyId": created.key.access_key_id,
        "AccessKeySecret": created.key.secret,
    }
    _emit(as_json, data, lambda: "\n".join(f"{k}: {v}" for k, v in data.items()))


@app.command("create-user")
def create_user(
    name: str,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a RAM user under an account."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        user = admin.create_user(account_id, name)
    data = {"AccountId": user.account_id, "UserName": user.name, "UserId": user.user_id}
    _emit(as_json, data, lambda: f"Created user {user.name} (ID {user.user_id}) in account {user.account_id}")


@app.command("delete-user")
def delete_user(
    name: str, account: AccountOption = None, config: ConfigOption = None, data_dir: DataDirOption = None
) -> None:
    """Delete a RAM user with its access keys and policy attachments."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.delete_user(account_id, name)
    typer.echo(f"Deleted user {name}")


@app.command("create-key")
def create_key(
    user: Annotated[
        str | None, typer.Option("--user", help="The RAM user (default: the account's own key).")
    ] = None,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an access key for a RAM user (or the account); the secret is shown this once."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        key = admin.create_key(account_id, user)
    data = {
        "AccountId": key.account_id,
        "UserName": key.user_name,
        "AccessKeyId": key.access_key_id,
        "AccessKeySecret": key.secret,
    }
    _emit(as_json, data, lambda: f"AccessKeyId: {key.access_key_id}\nAccessKeySecret: {key.secret}")


def _set_status(access_key_id: str, status: KeyStatus, config: Path | None, data_dir: Path | None) -> None:
    with _errors():
        admin_for(_load(config, data_dir)).set_key_status(access_key_id, status)
    typer.echo(f"{access_key_id}: {status.value}")


@app.command("disable-key")
def disable_key(access_key_id: str, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Make an access key Inactive: requests signed with it fail (InvalidAccessKeyId)."""
    _set_status(access_key_id, KeyStatus.INACTIVE, config, data_dir)


@app.command("enable-key")
def enable_key(access_key_id: str, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Make an access key Active again."""
    _set_status(access_key_id, KeyStatus.ACTIVE, config, data_dir)


@app.command("delete-key")
def delete_key(access_key_id: str, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Delete (revoke) an access key for good."""
    with _errors():
        admin_for(_load(config, data_dir)).delete_key(access_key_id)
    typer.echo(f"Deleted access key {access_key_id}")


@app.command("create-policy")
def create_policy(
    name: str,
    document: DocumentOption,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a custom policy (RAM policy language) in an account."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.put_policy(account_id, name, _read(document), create=True)
    typer.echo(f"Created policy {name}")


@app.command("update-policy")
def update_policy(
    name: str,
    document: DocumentOption,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Replace a custom policy's document; it applies to later requests (and replication tasks)."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.put_policy(account_id, name, _read(document), create=False)
    typer.echo(f"Updated policy {name}")


@app.command("delete-policy")
def delete_policy(
    name: str, account: AccountOption = None, config: ConfigOption = None, data_dir: DataDirOption = None
) -> None:
    """Delete a custom policy (detach it first)."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.delete_policy(account_id, name)
    typer.echo(f"Deleted policy {name}")


UserTarget = Annotated[str | None, typer.Option("--user", help="Attach to this RAM user.")]
RoleTarget = Annotated[str | None, typer.Option("--role", help="Attach to this role.")]
SystemFlag = Annotated[bool, typer.Option("--system", help="A system policy (AliyunOSSFullAccess ...).")]


def _target(user: str | None, role: str | None) -> tuple[TargetKind, str]:
    if (user is None) == (role is None):
        raise typer.BadParameter("give exactly one of --user and --role")
    return (TargetKind.USER, user) if user is not None else (TargetKind.ROLE, role or "")


@app.command("attach-policy")
def attach_policy(
    policy: str,
    user: UserTarget = None,
    role: RoleTarget = None,
    system: SystemFlag = False,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Attach a policy to a RAM user or a role."""
    kind, target = _target(user, role)
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.attach(account_id, policy, system=system, kind=kind, target=target)
    typer.echo(f"Attached {policy} to {kind.value} {target}")


@app.command("detach-policy")
def detach_policy(
    policy: str,
    user: UserTarget = None,
    role: RoleTarget = None,
    system: SystemFlag = False,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Detach a policy from a RAM user or a role."""
    kind, target = _target(user, role)
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.detach(account_id, policy, system=system, kind=kind, target=target)
    typer.echo(f"Detached {policy} from {kind.value} {target}")


@app.command("create-role")
def create_role(
    name: str,
    trust_document: Annotated[
        Path | None,
        typer.Option(
            "--trust-document",
            help="Who may assume it (default: Ferry's replication service and the account itself).",
        ),
    ] = None,
    max_session_duration: Annotated[int, typer.Option("--max-session-duration", help="Seconds.")] = 3600,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a role (for example a replication rule's SyncRole)."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        trust = _read(trust_document) if trust_document is not None else None
        role = admin.create_role(
            account_id, name, trust_document=trust, max_session_seconds=max_session_duration
        )
    data = {"AccountId": role.account_id, "RoleName": role.name, "RoleId": role.role_id}
    _emit(as_json, data, lambda: f"Created role {role.name} (ID {role.role_id}) in account {role.account_id}")


@app.command("delete-role")
def delete_role(
    name: str, account: AccountOption = None, config: ConfigOption = None, data_dir: DataDirOption = None
) -> None:
    """Delete a role; its STS sessions stop working."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        admin.delete_role(account_id, name)
    typer.echo(f"Deleted role {name}")


@app.command("assume-role")
def assume_role(
    role: str,
    session: Annotated[str, typer.Option("--session", help="The session's name.")] = "ferry-cli",
    duration: Annotated[
        int | None, typer.Option("--duration", help="Seconds (900 to the role's max).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="A session policy narrowing the role's.")
    ] = None,
    account: AccountOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue STS temporary credentials for a role (AccessKeyId, AccessKeySecret, SecurityToken)."""
    with _errors():
        admin, account_id = _admin(config, data_dir, account)
        session_policy = _read(policy) if policy is not None else None
        issued = admin.assume_role(
            account_id, role, session_name=session, duration_seconds=duration, session_policy=session_policy
        )
    grant = issued.grant
    data = {
        "AccessKeyId": grant.access_key_id,
        "AccessKeySecret": grant.secret,
        "SecurityToken": issued.security_token,
        "Expiration": _iso(grant.expires_at),
    }
    _emit(as_json, data, lambda: "\n".join(f"{k}: {v}" for k, v in data.items()))


@app.command("list")
def list_all(
    config: ConfigOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Accounts, users, access keys (IDs and status, never secrets), roles, policies, attachments."""
    with _errors():
        records = admin_for(_load(config, data_dir)).records()
    data: dict[str, Any] = {
        "Accounts": [asdict(a) for a in records.accounts],
        "Users": [asdict(u) for u in records.users],
        "AccessKeys": [
            {
                "access_key_id": k.access_key_id,
                "account_id": k.account_id,
                "user_name": k.user_name,
                "status": k.status.value,
            }
            for k in records.keys
        ],
        "Roles": [
            {"account_id": r.account_id, "name": r.name, "role_id": r.role_id, "trust_policy": r.trust_policy}
            for r in records.roles
        ],
        "Policies": [asdict(p) for p in records.policies],
        "Attachments": [
            {
                "account_id": a.account_id,
                "policy": a.policy_name,
                "system": a.system,
                "target": f"{a.target_kind.value}/{a.target_name}",
            }
            for a in records.attachments
        ],
    }
    _emit(as_json, data, lambda: json.dumps(data, indent=2))
