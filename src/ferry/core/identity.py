"""Who is making a request, once the signature has been checked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    account_id: str | None
    """The account the key belongs to; None for an anonymous request."""
    access_key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.account_id is None


ANONYMOUS = Principal(account_id=None)


SERVICE_ACCOUNT_ID = "ferry-replication-service"
"""The account of the identity Ferry's regions use with each other."""
