"""Server-side encryption as stored with a version (which key, how the data key is wrapped)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SseAlgorithm(enum.StrEnum):
    AES256 = "AES256"
    """Keys managed by Ferry itself (OSS-managed keys)."""
    KMS = "KMS"
    """A named key of the region's key service (SSE-KMS)."""
    SM4 = "SM4"
    """Keys managed by Ferry, data encrypted with the SM4 block cipher."""


SM4_CIPHER = "SM4"
"""``Encryption.data_encryption`` of bytes encrypted with SM4-CTR (``SSE: SM4``, or KMS with
``x-oss-server-side-data-encryption: SM4``)."""


@dataclass(frozen=True)
class Encryption:
    algorithm: SseAlgorithm
    key_id: str
    """The master key that wraps the data key (the KMS key id for SSE-KMS)."""
    wrapped_key: str
    """The object's data key, encrypted by the master key (base64)."""
    iv: str
    """The initial AES-CTR counter block (hex)."""
    data_encryption: str = ""
    """The data cipher: '' for AES-256-CTR, ``SM4`` for SM4-CTR."""

    @property
    def reported_data_encryption(self) -> str | None:
        """What ``x-oss-server-side-data-encryption`` says: only SSE-KMS names its data cipher."""
        if self.algorithm is SseAlgorithm.KMS and self.data_encryption:
            return self.data_encryption
        return None
