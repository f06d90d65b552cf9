"""Who is making a request, once the signature has been checked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    account_id: str | None
    """The account the key belongs to; None for an anonymous request."""
    access_key_id: str | None = None
    user: str | None = None
    """The RAM user's name when a RAM user's key signed the request."""
    role: str | None = None
    """The role's name when STS credentials of an assumed role signed the request."""
    session: str | None = None
    """The role session's name (STS)."""

    @property
    def anonymous(self) -> bool:
        return self.account_id is None

    @property
    def is_root(self) -> bool:
        """The account itself (its owner key): not a RAM user, not a role, not the service."""
        return (
            self.account_id is not None
            and self.account_id != SERVICE_ACCOUNT_ID
            and self.user is None
            and self.role is None
        )


ANONYMOUS = Principal(account_id=None)


SERVICE_ACCOUNT_ID = "ferry-replication-service"
"""The account of the identity Ferry's regions use with each other."""


@dataclass(frozen=True)
class ReplicaActor:
    """On whose behalf a replicated change is written: the source bucket's account, and the
    rule's SyncRole (a role of that account), which must carry the write into another account."""

    account_id: str
    role: str | None = None
