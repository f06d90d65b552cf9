"""What the IAM store keeps, and the port through which it is reached.

Accounts, RAM users, access keys, roles, policies and their attachments are the same in every
region (``ferry iam ...`` writes them to each region's store); bucket policies belong to the
region of their bucket.  Every write bumps one generation counter, so a server notices a change
with one cheap read and reloads the whole (small) set.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

DEFAULT_ACCOUNT_NAME = "default"
"""The name of the account whose owner key is the root key of ``credentials.py``."""


class KeyStatus(enum.StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class TargetKind(enum.StrEnum):
    USER = "user"
    ROLE = "role"


@dataclass(frozen=True)
class AccountRecord:
    account_id: str
    name: str
    created_at: float


@dataclass(frozen=True)
class UserRecord:
    account_id: str
    name: str
    user_id: str
    """A UID of its own, as RAM gives each user (bucket policies may name it)."""
    created_at: float


@dataclass(frozen=True)
class KeyRecord:
    access_key_id: str
    account_id: str
    user_name: str | None
    """None: the account's own (owner) key."""
    sealed_secret: str
    """The secret encrypted under the region's IAM master key (it must be recoverable: HMAC)."""
    status: KeyStatus
    created_at: float


@dataclass(frozen=True)
class RoleRecord:
    account_id: str
    name: str
    role_id: str
    trust_policy: str
    """Who may assume the role (a RAM trust policy document)."""
    max_session_seconds: int
    created_at: float


@dataclass(frozen=True)
class PolicyRecord:
    account_id: str
    name: str
    document: str
    updated_at: float


@dataclass(frozen=True)
class AttachmentRecord:
    account_id: str
    policy_name: str
    system: bool
    """A system policy (``AliyunOSSFullAccess`` ...) rather than one of the account's own."""
    target_kind: TargetKind
    target_name: str


@dataclass(frozen=True)
class BucketPolicyRecord:
    bucket: str
    bucket_created_at: float
    """The policy belongs to this incarnation of the bucket: a bucket deleted and created again
    (perhaps by another account) does not inherit it."""
    document: str


@dataclass(frozen=True)
class IamRecords:
    generation: int
    accounts: tuple[AccountRecord, ...] = ()
    users: tuple[UserRecord, ...] = ()
    keys: tuple[KeyRecord, ...] = ()
    roles: tuple[RoleRecord, ...] = ()
    policies: tuple[PolicyRecord, ...] = ()
    attachments: tuple[AttachmentRecord, ...] = ()
    bucket_policies: tuple[BucketPolicyRecord, ...] = ()


class IamStore(Protocol):
    """One region's IAM tables.  Every write is one transaction that bumps the generation."""

    def generation(self) -> int: ...
    def load(self) -> IamRecords: ...

    def put_account(self, account: AccountRecord) -> None: ...
    def put_user(self, user: UserRecord) -> None: ...
    def delete_user(self, account_id: str, name: str) -> None:
        """Removes the user's keys and attachments with it."""
        ...

    def put_key(self, key: KeyRecord) -> None: ...
    def delete_key(self, access_key_id: str) -> None: ...
    def put_role(self, role: RoleRecord) -> None: ...
    def delete_role(self, account_id: str, name: str) -> None:
        """Removes the role's attachments with it."""
        ...

    def put_policy(self, policy: PolicyRecord) -> None: ...
    def delete_policy(self, account_id: str, name: str) -> None: ...
    def attach(self, attachment: AttachmentRecord) -> None: ...
    def detach(self, attachment: AttachmentRecord) -> None: ...

    def put_bucket_policy(self, policy: BucketPolicyRecord) -> None: ...
    def get_bucket_policy(self, bucket: str) -> BucketPolicyRecord | None: ...
    def delete_bucket_policy(self, bucket: str) -> None: ...
