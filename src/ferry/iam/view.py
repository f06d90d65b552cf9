"""An immutable, indexed view of one generation of the IAM records, for the request path.

Built once per generation (policies parsed, lookups indexed); secrets are opened lazily, the
first time their key signs a request, and kept only in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag

from ferry.core.errors import OssError
from ferry.core.identity import SERVICE_ACCOUNT_ID, Principal
from ferry.core.model import Bucket
from ferry.iam.crypto import SecretBox
from ferry.iam.policy import Policy, PolicyKind, PrincipalNames, parse_policy
from ferry.iam.records import (
    AccountRecord,
    IamRecords,
    KeyRecord,
    KeyStatus,
    RoleRecord,
    TargetKind,
    UserRecord,
)
from ferry.iam.system_policies import SYSTEM_POLICIES

log = logging.getLogger("ferry.iam")

REPLICATION_SERVICE = "oss.aliyuncs.com"
"""The service principal a SyncRole's trust policy names so Ferry's replication may use it."""


@dataclass(frozen=True)
class BootstrapKey:
    """A key that lives outside the IAM tables: the default account's owner key, the service key."""

    access_key_id: str
    secret: str = field(repr=False)
    account_id: str


@dataclass(frozen=True)
class Credential:
    secret: str = field(repr=False)
    principal: Principal


@dataclass(frozen=True)
class RoleView:
    record: RoleRecord
    trust: Policy | None
    """None when the stored trust document no longer parses (then nobody may assume the role)."""


def _parse_stored(text: str, kind: PolicyKind, what: str) -> Policy | None:
    # Documents are validated before they are stored; one that fails now (a newer Ferry wrote
    # it, or the file was edited) is skipped loudly rather than taking the server down.
    try:
        return parse_policy(text, kind)
    except OssError as exc:
        log.error("ignoring the stored %s: %s", what, exc.message)
        return None


class IamView:
    def __init__(self, records: IamRecords, box: SecretBox, bootstrap: Iterable[BootstrapKey] = ()) -> None:
        self.generation = records.generation
        self._box = box
        self._bootstrap = {k.access_key_id: k for k in bootstrap}
        self._opened: dict[str, str] = {}
        self.accounts: dict[str, AccountRecord] = {a.account_id: a for a in records.accounts}
        self.users: dict[tuple[str, str], UserRecord] = {(u.account_id, u.name): u for u in records.users}
        self.keys: dict[str, KeyRecord] = {k.access_key_id: k for k in records.keys}
        self.roles: dict[tuple[str, str], RoleView] = {
            (r.account_id, r.name): RoleView(
                r, _parse_stored(r.trust_policy, PolicyKind.TRUST, f"trust policy of role {r.name}")
            )
            for r in records.roles
        }
        self.policies: dict[tuple[str, str], Policy] = {}
        for p in records.policies:
            parsed = _parse_stored(p.document, PolicyKind.IDENTITY, f"policy {p.name}")
            if parsed is not None:
                self.policies[(p.account_id, p.name)] = parsed
        self._attached: dict[tuple[str, TargetKind, str], list[Policy]] = {}
        for a in records.attachments:
            policy = (
                SYSTEM_POLICIES.get(a.policy_name)
                if a.system
                else self.policies.get((a.account_id, a.policy_name))
            )
            if policy is not None:
                self._attached.setdefault((a.account_id, a.target_kind, a.target_name), []).append(policy)
        self._bucket_policies: dict[str, tuple[float, Policy]] = {}
        for bp in records.bucket_policies:
            parsed = _parse_stored(bp.document, PolicyKind.BUCKET, f"policy of bucket {bp.bucket}")
            if parsed is not None:
                self._bucket_policies[bp.bucket] = (bp.bucket_created_at, parsed)

    # --- credentials ---------------------------------------------------------------------

    def credential(self, access_key_id: str) -> Credential | None:
        """The secret and principal of an active long-term key, or None."""
        boot = self._bootstrap.get(access_key_id)
        if boot is not None:
            return Credential(boot.secret, Principal(account_id=boot.account_id, access_key_id=access_key_id))
        record = self.keys.get(access_key_id)
        if record is None or record.status is not KeyStatus.ACTIVE:
            return None
        if record.account_id not in self.accounts:
            return None
        if record.user_name is not None and (record.account_id, record.user_name) not in self.users:
            return None
        secret = self._opened.get(access_key_id)
        if secret is None:
            try:
                secret = self._box.open(record.sealed_secret, access_key_id)
            except (InvalidTag, ValueError):
                log.error("the secret of access key %s does not open with this IAM master key", access_key_id)
                return None
            self._opened[access_key_id] = secret
        principal = Principal(
            account_id=record.account_id, access_key_id=access_key_id, user=record.user_name
        )
        return Credential(secret, principal)

    # --- what a principal may do ---------------------------------------------------------

    def role(self, account_id: str, name: str) -> RoleView | None:
        return self.roles.get((account_id, name))

    def identity_policies(self, principal: Principal) -> list[Policy]:
        """The policies attached to a RAM user or to the role of a session (none for the others)."""
        if principal.account_id is None:
            return []
        if principal.user is not None:
            return self._attached.get((principal.account_id, TargetKind.USER, principal.user), [])
        if principal.role is not None:
            return self._attached.get((principal.account_id, TargetKind.ROLE, principal.role), [])
        return []

    def bucket_policy(self, bucket: Bucket) -> Policy | None:
        found = self._bucket_policies.get(bucket.name)
        if found is None or found[0] != bucket.created_at:
            return None  # none, or left behind by a deleted bucket of the same name
        return found[1]

    def principal_names(self, principal: Principal, resource_owner: str | None = None) -> PrincipalNames:
        """The names ``principal`` answers to in a Principal element, from the owner's viewpoint."""
        account = principal.account_id
        if account is None:
            return PrincipalNames(frozenset(), anonymous=True)
        if account == SERVICE_ACCOUNT_ID:
            return PrincipalNames(frozenset({REPLICATION_SERVICE}))
        names: set[str] = set()
        if principal.user is not None:
            names.add(f"acs:ram::{account}:user/{principal.user}")
            user = self.users.get((account, principal.user))
            if user is not None:
                names.add(user.user_id)
        elif principal.role is not None:
            names.add(f"acs:ram::{account}:role/{principal.role}")
            names.add(f"arn:sts::{account}:assumed-role/{principal.role}/{principal.session or ''}")
            role = self.roles.get((account, principal.role))
            if role is not None:
                names.add(role.record.role_id)
        else:
            names.update({account, f"acs:ram::{account}:root"})
        return PrincipalNames(frozenset(names), owner_root=principal.is_root and account == resource_owner)
