"""The small bucket configurations: logging, tags, default encryption, requester pays,
public access block and storage capacity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ferry.core.errors import OssError


@dataclass(frozen=True)
class LoggingConfiguration:
    KIND: ClassVar[str] = "logging"
    target_bucket: str
    target_prefix: str = ""


MAX_BUCKET_TAGS = 20


@dataclass(frozen=True)
class BucketTags:
    KIND: ClassVar[str] = "tags"
    tags: dict[str, str] = field(default_factory=dict)


def check_bucket_tags(tags: Mapping[str, str]) -> dict[str, str]:
    if len(tags) > MAX_BUCKET_TAGS:
        raise OssError("InvalidArgument", f"A bucket can have at most {MAX_BUCKET_TAGS} tags.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 64 or len(value) > 128:
            raise OssError("InvalidArgument", "A bucket tag key is 1-64 and a value 0-128 characters long.")
        if key.startswith(("aliyun", "acs:", "http://", "https://")) or value.startswith(
            ("http://", "https://")
        ):
            raise OssError("InvalidArgument", f"The tag {key!r} uses a reserved prefix.")
    return dict(tags)


SSE_ALGORITHMS = frozenset({"AES256", "KMS", "SM4"})


@dataclass(frozen=True)
class DefaultEncryption:
    """What PutObject applies when the writer asks for no server-side encryption."""

    KIND: ClassVar[str] = "encryption"
    algorithm: str
    kms_key_id: str | None = None
    data_encryption: str | None = None
    """``SM4`` to encrypt the bytes with SM4 under an SSE-KMS key (KMS only)."""


def check_default_encryption(
    algorithm: str, kms_key_id: str | None, data_encryption: str | None
) -> DefaultEncryption:
    if algorithm not in SSE_ALGORITHMS:
        raise OssError("InvalidEncryptionAlgorithmError", f"Unsupported SSEAlgorithm {algorithm!r}.")
    if kms_key_id and algorithm != "KMS":
        raise OssError("InvalidArgument", "KMSMasterKeyID is only valid with SSEAlgorithm KMS.")
    if algorithm != "KMS":
        data_encryption = None  # OSS keeps KMSDataEncryption only for KMS
    if data_encryption not in (None, "", "SM4"):
        raise OssError("InvalidArgument", f"Unsupported KMSDataEncryption {data_encryption!r}.")
    return DefaultEncryption(algorithm, kms_key_id or None, data_encryption or None)


PAYERS = ("BucketOwner", "Requester")


@dataclass(frozen=True)
class RequestPayment:
    KIND: ClassVar[str] = "request_payment"
    payer: str = "BucketOwner"


def check_payer(payer: str | None) -> RequestPayment:
    if payer not in PAYERS:
        raise OssError("InvalidArgument", "Payer must be BucketOwner or Requester.")
    return RequestPayment(payer)


@dataclass(frozen=True)
class PublicAccessBlock:
    """Bucket- or account-level: ignore public ACLs and refuse to grant new ones."""

    KIND: ClassVar[str] = "public_access_block"
    block_public_access: bool = False


@dataclass(frozen=True)
class StorageCapacity:
    """The bucket's capacity in GB (``-1``: unlimited): once its objects (all versions) fill it,
    writes are refused with 403 ``InsufficientStorageSpace``."""

    KIND: ClassVar[str] = "storage_capacity"
    gigabytes: int = -1


def check_capacity(value: int) -> StorageCapacity:
    if value < -1:
        raise OssError("InvalidArgument", "StorageCapacity must be -1 (unlimited) or at least 0.")
    return StorageCapacity(value)
