"""Naming rules of OSS for buckets and object keys."""

from __future__ import annotations

import re

from ferry.core.errors import OssError

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


def check_bucket_name(name: str) -> None:
    if not _BUCKET_RE.match(name):
        raise OssError(
            "InvalidBucketName", f"The specified bucket name is not valid: {name!r}.", BucketName=name
        )


def check_object_key(key: str) -> None:
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise OssError("InvalidObjectName", "The object name is not valid UTF-8.") from None
    if size == 0 or size > MAX_KEY_BYTES:
        raise OssError("InvalidObjectName", "The object name must be 1 to 1023 bytes long.", Key=key)
    if key[0] in "/\\":
        raise OssError("InvalidObjectName", "The object name must not start with '/' or '\\'.", Key=key)


_VERSION_ID_RE = re.compile(r"^CAEQ[A-Za-z0-9+/=_-]{1,252}$")


def check_version_id(version_id: str) -> None:
    """A version id as OSS (and Ferry) make them (``CAEQ`` + base64), or ``null``."""
    if version_id != "null" and not _VERSION_ID_RE.match(version_id):
        raise OssError(
            "InvalidArgument",
            "Invalid version id specified.",
            ArgumentName="versionId",
            ArgumentValue=version_id,
        )
