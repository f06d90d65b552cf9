"""Administration of accounts, RAM users, keys, roles and policies (``ferry iam ...``).

Accounts span regions, and every region has its own store, so each command writes the same
records to every region's store.  Records carry their identifiers (account ID, user ID, key ID,
role ID), so writing one twice is harmless, and a command interrupted half-way is completed by
running it again: an entity that exists in some stores only is copied to the others rather than
reported as existing.  Servers notice the change through the stores' generation counters.

Plaintext secrets leave this module only as return values of the commands that create them
(shown once by the CLI); the stores receive them sealed.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from ferry.core.errors import OssError
from ferry.iam import sts
from ferry.iam.crypto import SecretBox, derive_key
from ferry.iam.policy import AccessFacts, Effect, PolicyKind, PrincipalNames, evaluate, parse_policy
from ferry.iam.records import (
    AccountRecord,
    AttachmentRecord,
    IamRecords,
    IamStore,
    KeyRecord,
    KeyStatus,
    PolicyRecord,
    RoleRecord,
    TargetKind,
    UserRecord,
)
from ferry.iam.system_policies import SYSTEM_POLICIES
from ferry.iam.view import REPLICATION_SERVICE

_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
DEFAULT_MAX_SESSION_SECONDS = 3600
R = TypeVar("R")


@dataclass(frozen=True)
class NewKey:
    access_key_id: str
    secret: str = field(repr=False)
    account_id: str
    user_name: str | None


@dataclass(frozen=True)
class NewAccount:
    account: AccountRecord
    key: NewKey


@dataclass(frozen=True)
class IssuedSession:
    grant: sts.SessionGrant
    security_token: str


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise OssError("InvalidArgument", f"A {what} name has 1 to 64 letters, digits or . _ @ -: {name!r}.")


def _uid() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def default_trust_policy(account_id: str) -> str:
    """Ferry's replication service (a SyncRole) and the account itself may assume the role."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": [REPLICATION_SERVICE], "RAM": [f"acs:ram::{account_id}:root"]},
                }
            ],
        }
    )


class IamAdmin:
    def __init__(self, stores: Sequence[IamStore], master_key: bytes, now: Callable[[], float]) -> None:
        if not stores:
            raise ValueError("IamAdmin needs at least one store")
        self._stores = stores
        self._box = SecretBox(derive_key(master_key, "secrets-at-rest"))
        self._sealer = sts.TokenSealer(derive_key(master_key, "sts-tokens"))
        self._now = now

    # --- reading ---------------------------------------------------------------------------

    def records(self) -> IamRecords:
        """The first store's records (all stores hold the same accounts, users, keys, roles, policies)."""
        return self._stores[0].load()

    def _loads(self) -> list[IamRecords]:
        return [store.load() for store in self._stores]

    def account(self, name_or_id: str) -> AccountRecord:
        for records in self._loads():
            for account in records.accounts:
                if name_or_id in (account.account_id, account.name):
                    return account
        raise OssError("EntityNotExist", f"No account {name_or_id!r}.")

    def ensure_account(self, account_id: str, name: str) -> AccountRecord:
        """Make sure every store knows the account (the default account is created this way)."""
        first, per_store = self._present(lambda r: [a for a in r.accounts if a.account_id == account_id])
        record = first if first is not None else AccountRecord(account_id, name, self._now())
        for store, existing in zip(self._stores, per_store, strict=True):
            if existing is None:
                store.put_account(record)
        return record

    def _present(self, pick: Callable[[IamRecords], list[R]]) -> tuple[R | None, list[R | None]]:
        """One copy of the entity ``pick`` finds (None: nowhere), and per store the copy or None."""
        per_store: list[R | None] = []
        for records in self._loads():
            found = pick(records)
            per_store.append(found[0] if found else None)
        first = next((item for item in per_store if item is not None), None)
        return first, per_store

    def _create(
        self, pick: Callable[[IamRecords], list[R]], make: Callable[[], R], what: str
    ) -> tuple[R, list[IamStore]]:
        """The record to write (an existing copy, else a new one) and the stores that lack it."""
        first, per_store = self._present(pick)
        if first is not None and all(item is not None for item in per_store):
            raise OssError("EntityAlreadyExists", f"{what} exists already.")
        record = first if first is not None else make()
        return record, [store for store, item in zip(self._stores, per_store, strict=True) if item is None]

    # --- accounts, users, keys -------------------------------------------------------------

    def create_account(self, name: str) -> NewAccount:
        _check_name(name, "account")
        account, missing = self._create(
            lambda r: [a for a in r.accounts if a.name == name],
            lambda: AccountRecord(_uid(), name, self._now()),
            f"The account {name}",
        )
        for store in missing:
            store.put_account(account)
        return NewAccount(account, self.create_key(account.account_id, None))

    def create_user(self, account_id: str, name: str) -> UserRecord:
        _check_name(name, "user")
        user, missing = self._create(
            lambda r: [u for u in r.users if (u.account_id, u.name) == (account_id, name)],
            lambda: UserRecord(account_id, name, _uid(), self._now()),
            f"The user {name}",
        )
        for store in missing:
            store.put_user(user)
        return user

    def delete_user(self, account_id: str, name: str) -> None:
        self._require(
            lambda r: any((u.account_id, u.name) == (account_id, name) for u in r.users), f"user {name}"
        )
        for store in self._stores:
            store.delete_user(account_id, name)

    def create_key(self, account_id: str, user_name: str | None) -> NewKey:
        if user_name is not None:
            self._require(
                lambda r: any((u.account_id, u.name) == (account_id, user_name) for u in r.users),
                f"user {user_name}",
            )
        access_key_id = "LTAI" + secrets.token_hex(10)
        secret = secrets.token_urlsafe(24)
        record = KeyRecord(
            access_key_id,
            account_id,
            user_name,
            self._box.seal(secret, access_key_id),
            KeyStatus.ACTIVE,
            self._now(),
        )
        written: list[IamStore] = []
        try:
            for store in self._stores:
                store.put_key(record)
                written.append(store)
        except BaseException:
            for store in written:  # a key whose secret was never shown must not stay usable
                store.delete_key(access_key_id)
            raise
        return NewKey(access_key_id, secret, account_id, user_name)

    def set_key_status(self, access_key_id: str, status: KeyStatus) -> None:
        key = self._key(access_key_id)
        for store in self._stores:
            store.put_key(replace(key, status=status))

    def delete_key(self, access_key_id: str) -> None:
        self._key(access_key_id)
        for store in self._stores:
            store.delete_key(access_key_id)

    def _key(self, access_key_id: str) -> KeyRecord:
        for records in self._loads():
            for key in records.keys:
                if key.access_key_id == access_key_id:
                    return key
        raise OssError("EntityNotExist", f"No access key {access_key_id}.")

    # --- policies --------------------------------------------------------------------------

    def put_policy(self, account_id: str, name: str, document: str, *, create: bool) -> PolicyRecord:
        """Create a policy (``create``) or replace the document of an existing one."""
        _check_name(name, "policy")
        parse_policy(document, PolicyKind.IDENTITY)
        exists = self._exists(lambda r: any((p.account_id, p.name) == (account_id, name) for p in r.policies))
        if create and exists:
            raise OssError("EntityAlreadyExists", f"The policy {name} exists already.")
        if not create and not exists:
            raise OssError("EntityNotExist", f"No policy {name}.")
        record = PolicyRecord(account_id, name, document, self._now())
        for store in self._stores:
            store.put_policy(record)
        return record

    def delete_policy(self, account_id: str, name: str) -> None:
        self._require(
            lambda r: any((p.account_id, p.name) == (account_id, name) for p in r.policies), f"policy {name}"
        )
        attached = [
            a
            for a in self.records().attachments
            if (a.account_id, a.policy_name, a.system) == (account_id, name, False)
        ]
        if attached:
            targets = ", ".join(f"{a.target_kind.value} {a.target_name}" for a in attached)
            raise OssError("InvalidArgument", f"The policy {name} is attached to {targets}: detach it first.")
        for store in self._stores:
            store.delete_policy(account_id, name)

    def attach(self, account_id: str, policy: str, *, system: bool, kind: TargetKind, target: str) -> None:
        attachment = self._attachment(account_id, policy, system=system, kind=kind, target=target)
        for store in self._stores:
            store.attach(attachment)

    def detach(self, account_id: str, policy: str, *, system: bool, kind: TargetKind, target: str) -> None:
        attachment = AttachmentRecord(account_id, policy, system, kind, target)
        self._require(
            lambda r: attachment in r.attachments, f"attachment of {policy} to {kind.value} {target}"
        )
        for store in self._stores:
            store.detach(attachment)

    def _attachment(
        self, account_id: str, policy: str, *, system: bool, kind: TargetKind, target: str
    ) -> AttachmentRecord:
        if system:
            if policy not in SYSTEM_POLICIES:
                raise OssError(
                    "EntityNotExist", f"No system policy {policy} (known: {', '.join(SYSTEM_POLICIES)})."
                )
        else:
            self._require(
                lambda r: any((p.account_id, p.name) == (account_id, policy) for p in r.policies),
                f"policy {policy}",
            )
        if kind is TargetKind.USER:
            self._require(
                lambda r: any((u.account_id, u.name) == (account_id, target) for u in r.users),
                f"user {target}",
            )
        else:
            self._require(
                lambda r: any((o.account_id, o.name) == (account_id, target) for o in r.roles),
                f"role {target}",
            )
        return AttachmentRecord(account_id, policy, system, kind, target)

    # --- roles and STS ---------------------------------------------------------------------

    def create_role(
        self,
        account_id: str,
        name: str,
        *,
        trust_document: str | None = None,
        max_session_seconds: int = DEFAULT_MAX_SESSION_SECONDS,
    ) -> RoleRecord:
        _check_name(name, "role")
        if not sts.MIN_DURATION_SECONDS <= max_session_seconds <= sts.MAX_DURATION_SECONDS:
            raise OssError(
                "InvalidArgument",
                f"The maximum session duration is {sts.MIN_DURATION_SECONDS} to "
                f"{sts.MAX_DURATION_SECONDS} seconds.",
            )
        trust = trust_document or default_trust_policy(account_id)
        parse_policy(trust, PolicyKind.TRUST)
        role, missing = self._create(
            lambda r: [o for o in r.roles if (o.account_id, o.name) == (account_id, name)],
            lambda: RoleRecord(account_id, name, _uid(), trust, max_session_seconds, self._now()),
            f"The role {name}",
        )
        for store in missing:
            store.put_role(role)
        return role

    def delete_role(self, account_id: str, name: str) -> None:
        self._require(
            lambda r: any((o.account_id, o.name) == (account_id, name) for o in r.roles), f"role {name}"
        )
        for store in self._stores:
            store.delete_role(account_id, name)

    def assume_role(
        self,
        account_id: str,
        role_name: str,
        *,
        session_name: str = "ferry-cli",
        duration_seconds: int | None = None,
        session_policy: str | None = None,
        now: float | None = None,
    ) -> IssuedSession:
        """Temporary credentials for a role, as the role's own account asks for them.

        The role's trust policy must let the account assume it; the session may then do what the
        role's policies allow (now and later: they are looked up at each request), narrowed by
        ``session_policy`` when given.
        """
        role = next(
            (o for o in self.records().roles if (o.account_id, o.name) == (account_id, role_name)), None
        )
        if role is None:
            raise OssError("EntityNotExist", f"No role {role_name}.")
        if not _SESSION_NAME.match(session_name):
            raise OssError("InvalidArgument", "A session name has 2 to 64 letters, digits or . _ @ -.")
        trust = parse_policy(role.trust_policy, PolicyKind.TRUST)
        caller = PrincipalNames(frozenset({account_id, f"acs:ram::{account_id}:root"}))
        if evaluate(trust, AccessFacts("sts:AssumeRole", ("*",), {}), caller) is not Effect.ALLOW:
            raise OssError(
                "AccessDenied",
                f"The trust policy of role {role_name} does not let account {account_id} assume it.",
            )
        duration = duration_seconds or min(sts.DEFAULT_DURATION_SECONDS, role.max_session_seconds)
        if not sts.MIN_DURATION_SECONDS <= duration <= role.max_session_seconds:
            raise OssError(
                "InvalidArgument",
                f"The duration must be {sts.MIN_DURATION_SECONDS} to {role.max_session_seconds} seconds "
                "for this role.",
            )
        if session_policy is not None:
            parse_policy(session_policy, PolicyKind.SESSION)
        issued_at = self._now() if now is None else now
        grant, token = self._sealer.issue(
            account_id=account_id,
            role=role.name,
            role_id=role.role_id,
            session_name=session_name,
            expires_at=issued_at + duration,
            session_policy=session_policy,
        )
        return IssuedSession(grant, token)

    # --- helpers ---------------------------------------------------------------------------

    def _exists(self, test: Callable[[IamRecords], bool]) -> bool:
        return any(test(records) for records in self._loads())

    def _require(self, test: Callable[[IamRecords], bool], what: str) -> None:
        if not self._exists(test):
            raise OssError("EntityNotExist", f"No {what}.")
