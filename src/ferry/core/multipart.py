"""Multipart uploads as values, and the rules OSS applies to them (pure: no storage, no HTTP).

An upload remembers what the object will be (headers, metadata, ACL, encryption) from
InitiateMultipartUpload; its parts are separate blobs until CompleteMultipartUpload
picks some of them, in ascending order, to become one object.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ferry.core.checksums import crc64_concat
from ferry.core.encryption import Encryption
from ferry.core.errors import OssError
from ferry.core.model import ObjectAcl, StorageClass

MIN_PART_NUMBER = 1
MAX_PART_NUMBER = 10000
MIN_PART_SIZE = 100 * 1024
"""Every part of a completed upload but the last must be at least this large."""
MAX_PART_SIZE = 5 * 1024**3


@dataclass(frozen=True)
class MultipartUpload:
    upload_id: str
    bucket: str
    key: str
    initiated_at: float
    owner_id: str = ""
    content_headers: Mapping[str, str] = field(default_factory=dict)
    user_meta: Mapping[str, str] = field(default_factory=dict)
    acl: ObjectAcl = ObjectAcl.DEFAULT
    storage_class: StorageClass = StorageClass.STANDARD
    tags: Mapping[str, str] = field(default_factory=dict)
    encryption: Encryption | None = None
    """The completed object's data key and IV; each part is encrypted with the same key."""
    sequential: bool = False
    """Initiated with ``?sequential``: parts arrive in order and the object gets a whole MD5."""
    forbid_overwrite: bool = False


@dataclass(frozen=True)
class Part:
    part_number: int
    size: int
    etag: str
    """Upper-case hex MD5 of the part's bytes."""
    crc64: int
    blob_id: str
    created_at: float
    iv: str = ""
    """Hex AES-CTR IV of this part's blob when the upload is encrypted (each part has its own)."""


@dataclass(frozen=True)
class UploadClaim:
    """What a completion consumes: the upload, and the part blobs its object was built from.

    The commit checks, in its own transaction, that the upload still exists and that every
    named part still has that blob, so a part replaced or an upload aborted meanwhile fails
    the completion instead of being lost.
    """

    bucket: str
    key: str
    upload_id: str
    part_blobs: Mapping[int, str]


def new_upload_id() -> str:
    """32 upper-case hex digits, ordered by creation time (OSS lists uploads by key, then id)."""
    return f"{time.time_ns():016X}{os.urandom(8).hex().upper()}"


def check_part_number(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise OssError("InvalidArgument", "partNumber must be an integer from 1 to 10000.") from None
    if not MIN_PART_NUMBER <= number <= MAX_PART_NUMBER:
        raise OssError("InvalidArgument", "partNumber must be an integer from 1 to 10000.")
    return number


def normalize_etag(etag: str) -> str:
    return etag.strip().strip('"').upper()


def multipart_etag(parts: Sequence[Part]) -> str:
    """OSS's ETag of a completed upload: MD5 over the parts' binary MD5s, a dash, the count."""
    digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in parts)).hexdigest().upper()
    return f"{digest}-{len(parts)}"


def combined_crc64(parts: Sequence[Part]) -> int:
    return crc64_concat((p.crc64, p.size) for p in parts)


def select_parts(requested: Sequence[tuple[int, str]], stored: Mapping[int, Part]) -> list[Part]:
    """The parts a CompleteMultipartUpload list names, checked as OSS checks them.

    InvalidPartOrder unless the numbers ascend strictly; InvalidPart when a part is missing
    or its ETag differs; EntityTooSmall when a part other than the last is under 100 KiB.
    """
    if not requested:
        raise OssError("MalformedXML", "The CompleteMultipartUpload document names no Part.")
    previous = 0
    for number, _ in requested:
        if number <= previous:
            raise OssError("InvalidPartOrder")
        previous = number
    chosen: list[Part] = []
    for number, etag in requested:
        part = stored.get(number)
        if part is None or part.etag != normalize_etag(etag):
            raise OssError(
                "InvalidPart",
                "One or more of the specified parts could not be found or the specified entity "
                "tag might not have matched the part's entity tag.",
                PartNumber=str(number),
            )
        chosen.append(part)
    check_sizes(chosen)
    return chosen


def check_sizes(parts: Sequence[Part]) -> None:
    for part in parts[:-1]:
        if part.size < MIN_PART_SIZE:
            raise OssError(
                "EntityTooSmall",
                f"Part {part.part_number} is {part.size} bytes: every part but the last must be "
                f"at least {MIN_PART_SIZE} bytes.",
                PartNumber=str(part.part_number),
            )
