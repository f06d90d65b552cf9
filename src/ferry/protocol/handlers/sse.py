"""Server-side encryption headers: what a writer asks for, what a reader is told."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ferry.core.bucket_options import DefaultEncryption
from ferry.core.encryption import SM4_CIPHER, Encryption, SseAlgorithm
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectVersion
from ferry.protocol.http import RequestContext
from ferry.region import RegionRuntime
from ferry.service.kms import KeyService, decrypt_chunks

ALGORITHM = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
DATA_ENCRYPTION = "x-oss-server-side-data-encryption"


Wanted = tuple[SseAlgorithm, str | None, str | None]
"""(algorithm, KMS key id, data encryption): what a writer (or the bucket's default) asks for."""


def requested(headers: Mapping[str, str], default: DefaultEncryption | None = None) -> Wanted | None:
    """The encryption a write asks for in its headers, else the bucket's default encryption."""
    value = headers.get(ALGORITHM)
    if value is None:
        if KEY_ID in headers:
            raise OssError("InvalidArgument", f"{KEY_ID} needs {ALGORITHM}: KMS.")
        if default is None:
            return None
        return SseAlgorithm(default.algorithm), default.kms_key_id, default.data_encryption
    try:
        algorithm = SseAlgorithm(value)
    except ValueError:
        raise OssError("InvalidEncryptionAlgorithmError", f"Unsupported {ALGORITHM}: {value!r}.") from None
    key_id = headers.get(KEY_ID) or None
    if key_id is not None and algorithm is not SseAlgorithm.KMS:
        raise OssError("InvalidArgument", f"{KEY_ID} is only valid with {ALGORITHM}: KMS.")
    data = headers.get(DATA_ENCRYPTION) or None
    if data is not None and data != SM4_CIPHER:
        raise OssError("InvalidArgument", f"Unsupported {DATA_ENCRYPTION}: {data!r}.")
    return algorithm, key_id, data if algorithm is SseAlgorithm.KMS else None


async def wanted_for(ctx: RequestContext, rt: RegionRuntime, bucket: Bucket) -> Wanted | None:
    """What a write into ``bucket`` is encrypted with: its headers, else the bucket's default."""
    default = rt.configs.get(bucket.name, DefaultEncryption)  # cached in memory: no thread hop
    return requested(ctx.headers, default)


def response_headers(info: Encryption | None) -> list[tuple[str, str]]:
    if info is None:
        return []
    headers = [(ALGORITHM, info.algorithm.value)]
    if info.algorithm is SseAlgorithm.KMS:
        headers.append((KEY_ID, info.key_id))
    data = info.reported_data_encryption
    if data is not None:
        headers.append((DATA_ENCRYPTION, data))
    return headers


def plaintext(
    kms: KeyService, version: ObjectVersion, chunks: Iterator[bytes], start: int
) -> Iterator[bytes]:
    """The object's bytes as written, from the stored (possibly encrypted) chunks."""
    if version.encryption is None:
        return chunks
    return decrypt_chunks(chunks, kms.data_key(version.encryption), version.encryption, start)
