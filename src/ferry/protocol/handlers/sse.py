"""Server-side encryption headers: what a writer asks for, what a reader is told."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ferry.core.encryption import Encryption, SseAlgorithm
from ferry.core.errors import OssError
from ferry.core.model import ObjectVersion
from ferry.service.kms import KeyService, decrypt_chunks

ALGORITHM = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"


def requested(headers: Mapping[str, str]) -> tuple[SseAlgorithm, str | None] | None:
    value = headers.get(ALGORITHM)
    if value is None:
        if KEY_ID in headers:
            raise OssError("InvalidArgument", f"{KEY_ID} needs {ALGORITHM}: KMS.")
        return None
    try:
        algorithm = SseAlgorithm(value)
    except ValueError:
        raise OssError("InvalidEncryptionAlgorithmError", f"Unsupported {ALGORITHM}: {value!r}.") from None
    key_id = headers.get(KEY_ID) or None
    if key_id is not None and algorithm is not SseAlgorithm.KMS:
        raise OssError("InvalidArgument", f"{KEY_ID} is only valid with {ALGORITHM}: KMS.")
    return algorithm, key_id


def response_headers(info: Encryption | None) -> list[tuple[str, str]]:
    if info is None:
        return []
    headers = [(ALGORITHM, info.algorithm.value)]
    if info.algorithm is SseAlgorithm.KMS:
        headers.append((KEY_ID, info.key_id))
    return headers


def plaintext(
    kms: KeyService, version: ObjectVersion, chunks: Iterator[bytes], start: int
) -> Iterator[bytes]:
    """The object's bytes as written, from the stored (possibly encrypted) chunks."""
    if version.encryption is None:
        return chunks
    return decrypt_chunks(chunks, kms.data_key(version.encryption), version.encryption, start)
