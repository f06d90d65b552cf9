"""Server-side encryption as stored with a version (which key, how the data key is wrapped)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SseAlgorithm(enum.StrEnum):
    AES256 = "AES256"
    """Keys managed by Ferry itself (OSS-managed keys)."""
    KMS = "KMS"
    """A named key of the region's key service (SSE-KMS)."""


@dataclass(frozen=True)
class Encryption:
    algorithm: SseAlgorithm
    key_id: str
    """The master key that wraps the data key (the KMS key id for SSE-KMS)."""
    wrapped_key: str
    """The object's data key, encrypted by the master key (base64)."""
    iv: str
    """The initial AES-CTR counter block (hex)."""
