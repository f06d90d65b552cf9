"""OSS signature version 2 (``OSS2``): HMAC-SHA256 over a canonical request.

As oss2 2.19.1 computes it (``ProviderAuthV2``): the string to sign is the
verb, Content-MD5, Content-Type, the date (``Date``, or ``x-oss-expires`` in a
presigned URL), the sorted ``x-oss-*`` and additional headers as
``name:value`` lines, the additional header names joined with ``;``, and the
resource: ``/bucket/key`` with every byte but the unreserved ones
percent-encoded (``/`` included), then every query parameter, encoded the
same way and sorted (``k=v``, or a bare ``k`` when the value is empty).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

AUTHORIZATION_SCHEME = "OSS2"
PRESIGN_VERSION = "OSS2"
PRESIGN_SIGNATURE = "x-oss-signature"

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~.")


def uri_encode(text: str) -> str:
    return "".join(
        chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8", "surrogateescape")
    )


def canonical_resource(
    bucket: str | None, key: str | None, query: Sequence[tuple[str, str]], exclude: Iterable[str] = ()
) -> str:
    path = uri_encode(f"/{bucket}/{key or ''}") if bucket else uri_encode("/")
    skip = set(exclude)
    params = sorted((uri_encode(k), uri_encode(v)) for k, v in query if k not in skip)
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={v}" if v else k for k, v in params)


def string_to_sign(
    method: str,
    headers: Mapping[str, str],
    bucket: str | None,
    key: str | None,
    query: Sequence[tuple[str, str]],
    additional: Iterable[str],
    date: str,
    *,
    exclude_query: Iterable[str] = (),
) -> str:
    extra = sorted({h.lower() for h in additional if h})
    signed = sorted(
        (name, value) for name, value in headers.items() if name.startswith("x-oss-") or name in extra
    )
    return (
        f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n{date}\n"
        + "".join(f"{name}:{value}\n" for name, value in signed)
        + ";".join(extra)
        + "\n"
        + canonical_resource(bucket, key, query, exclude_query)
    )


def signature(secret: str, to_sign: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def parse_authorization(rest: str) -> dict[str, str]:
    """``AccessKeyId:ak,AdditionalHeaders:h1;h2,Signature:sig`` to its fields."""
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition(":")
        if sep and name:
            fields[name] = value.strip()
    return fields
