"""Encryption of IAM secrets at rest, and the keys derived from one local master key.

Access-key secrets must stay recoverable (every request's HMAC is computed with them), so they
cannot be hashed: they are sealed with AES-256-GCM under a key derived from the IAM master key,
which lives in its own file (mode 0600) next to, not inside, the databases.  The associated data
binds a sealed secret to its access key id, so a sealed value copied onto another key's row does
not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose (``secrets-at-rest``, ``sts-tokens``) from the master key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"ferry-iam/{purpose}".encode()).derive(
        master
    )


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, bound_to: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, bound_to: str) -> str:
        """Raises ``InvalidTag`` when the value was not sealed here for ``bound_to``."""
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode()).decode()
