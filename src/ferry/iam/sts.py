"""STS-style temporary credentials: issued for a role, carried as ``x-oss-security-token``.

A security token is self-contained: the session (temporary key id and secret, account, role,
session name, expiry, optional session policy) sealed with AES-256-GCM under a key derived from
the IAM master key that every region of one Ferry shares.  Any region can therefore check a
token without asking anyone, and nothing about a session is stored: the token only needs
verifying, and the authenticated encryption is that verification.  What a session may do is not
in the token but looked up at each request (the role's policies as they are *now*, intersected
with the session policy), so a policy change applies to tokens already issued, and deleting the
role (or recreating it under the same name) invalidates them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ferry.core.errors import OssError

STS_KEY_PREFIX = "STS."
TOKEN_PREFIX = "FerrySTS1."
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
DEFAULT_DURATION_SECONDS = 3600
_AAD = b"ferry-sts-token-v1"
_NONCE_BYTES = 12
# EC values of OSS's error-code pages for these two cases.
INVALID_TOKEN_EC = "0002-00000006"
EXPIRED_TOKEN_EC = "0002-00000007"


@dataclass(frozen=True)
class SessionGrant:
    access_key_id: str
    secret: str = field(repr=False)
    account_id: str
    role: str
    role_id: str
    session_name: str
    expires_at: float
    session_policy: str | None = None


def is_sts_key(access_key_id: str) -> bool:
    return access_key_id.startswith(STS_KEY_PREFIX)


class TokenSealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def issue(
        self,
        *,
        account_id: str,
        role: str,
        role_id: str,
        session_name: str,
        expires_at: float,
        session_policy: str | None = None,
    ) -> tuple[SessionGrant, str]:
        """A fresh temporary key pair for the session, and its security token."""
        grant = SessionGrant(
            access_key_id=STS_KEY_PREFIX + secrets.token_hex(12),
            secret=secrets.token_urlsafe(30),
            account_id=account_id,
            role=role,
            role_id=role_id,
            session_name=session_name,
            expires_at=expires_at,
            session_policy=session_policy,
        )
        return grant, self.seal(grant)

    def seal(self, grant: SessionGrant) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        body = self._aead.encrypt(nonce, json.dumps(asdict(grant)).encode(), _AAD)
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + body).decode().rstrip("=")

    def open(self, token: str, access_key_id: str) -> SessionGrant:
        """The session of ``token`` if it was issued here for ``access_key_id`` (expiry is the caller's)."""
        if not token.startswith(TOKEN_PREFIX):
            raise invalid_token()
        encoded = token[len(TOKEN_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD)
            grant = SessionGrant(**json.loads(plain))
        except (InvalidTag, ValueError, TypeError):
            raise invalid_token() from None
        if grant.access_key_id != access_key_id:
            raise invalid_token()
        return grant


def invalid_token() -> OssError:
    return OssError("InvalidSecurityToken", EC=INVALID_TOKEN_EC)


def expired_token() -> OssError:
    return OssError("SecurityTokenExpired", EC=EXPIRED_TOKEN_EC)
