"""Who sent a request: verify its OSS signature, or sign one of our own.

:func:`authenticate` recognises the four ways OSS clients sign (V1 or V4, in
the Authorization header or in a presigned URL) and anonymous requests.  It is
pure: the secret lookup and the clock are passed in.

Error codes, in the order they are checked:

* a malformed Authorization header or presigned query → 400 ``InvalidArgument``
  (real OSS answers ``InvalidArgument`` "Authorization header is invalid." to
  a header it cannot parse; a 400 tells the client its *code* is wrong rather
  than its credentials);
* an unknown access key → 403 ``InvalidAccessKeyId``, before any signature
  work, as the SDK test suites expect;
* a header date more than 15 minutes from ``now`` → 403
  ``RequestTimeTooSkewed``; an expired presigned URL → 403 ``AccessDenied``
  "Request has expired."; a header request without a usable date → 403
  ``AccessDenied`` (the credentials cannot be judged without one);
* a signature that does not verify → 403 ``SignatureDoesNotMatch`` with the
  expected ``StringToSign`` as a detail, like OSS, so clients can debug.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from ferry.core.errors import OssError
from ferry.protocol import signing, signing_v2
from ferry.protocol.signable import SignableRequest

Scheme = Literal["anonymous", "v1", "v2", "v4", "v1-presigned", "v2-presigned", "v4-presigned"]

MAX_SKEW_SECONDS = 15 * 60
MAX_V4_PRESIGN_EXPIRES = 7 * 24 * 3600
"""OSS caps ``x-oss-expires`` at seven days (oss2's own tests sign with 604800)."""

_V4_DATETIME_FORMAT = "%Y%m%dT%H%M%SZ"
_V4_PRESIGN_SIGNATURE = "x-oss-signature"
_V4_PRESIGN_MARKERS = ("x-oss-signature-version", "x-oss-credential", _V4_PRESIGN_SIGNATURE)


@dataclass(frozen=True)
class AuthResult:
    access_key_id: str | None
    """None for an anonymous request."""
    scheme: Scheme
    security_token: str | None
    """The STS token the client sent, if any (the key lookup validates it)."""
    region: str | None
    """The region of a V4 credential scope, verbatim; None for V1 and anonymous."""


ANONYMOUS = AuthResult(access_key_id=None, scheme="anonymous", security_token=None, region=None)


@dataclass(frozen=True)
class _V4Credential:
    access_key_id: str
    date: str
    region: str
    product: str

    @property
    def scope(self) -> str:
        return signing.v4_scope(self.date, self.region, self.product)


# --- entry point --------------------------------------------------------------


def authenticate(req: SignableRequest, lookup_secret: Callable[[str], str | None], now: float) -> AuthResult:
    """Verify ``req`` and say who signed it; raise :class:`OssError` when it cannot be trusted.

    The Authorization header wins over presigned query parameters; a request
    with neither is anonymous (whether that is allowed is the caller's call).
    """
    authorization = (req.header("authorization") or "").strip()
    if authorization:
        return _authenticate_header(req, authorization, lookup_secret, now)
    if req.query_value("x-oss-signature-version") == signing_v2.PRESIGN_VERSION:
        return _authenticate_v2_presigned(req, lookup_secret, now)
    if req.has_query(_V4_PRESIGN_MARKERS):
        return _authenticate_v4_presigned(req, lookup_secret, now)
    if req.has_query(signing.V1_PRESIGN_PARAMS):
        return _authenticate_v1_presigned(req, lookup_secret, now)
    return ANONYMOUS


def _authenticate_header(
    req: SignableRequest, authorization: str, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    scheme, _, rest = authorization.partition(" ")
    if scheme == signing.V4_ALGORITHM:
        return _authenticate_v4_header(req, rest, lookup_secret, now)
    if scheme == "OSS":
        return _authenticate_v1_header(req, rest, lookup_secret, now)
    if scheme == signing_v2.AUTHORIZATION_SCHEME:
        return _authenticate_v2_header(req, rest, lookup_secret, now)
    raise _malformed("Authorization header is invalid.")


# --- V1 -----------------------------------------------------------------------


def _authenticate_v1_header(
    req: SignableRequest, credential: str, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    # ``OSS ak:signature``; base64 never contains ':' so the last one splits.
    access_key_id, sep, signature = credential.strip().rpartition(":")
    if not sep or not access_key_id or not signature:
        raise _malformed("Authorization header is invalid.")
    secret = _secret_for(access_key_id, lookup_secret)
    _check_skew(_parse_http_date(signing.v1_date(req.headers)), now)
    candidates = signing.v1_string_to_sign_candidates(req.method, req.headers, req.bucket, req.key, req.query)
    _verify_v1(secret, candidates, signature, access_key_id)
    return AuthResult(access_key_id, "v1", _security_token(req), None)


def _authenticate_v1_presigned(
    req: SignableRequest, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    access_key_id = req.query_value("OSSAccessKeyId")
    expires = req.query_value("Expires")
    signature = req.query_value("Signature")
    if not access_key_id or not expires or not signature:
        raise _malformed("A presigned URL needs OSSAccessKeyId, Expires and Signature.")
    expires_at = _parse_int(expires, "Expires")
    secret = _secret_for(access_key_id, lookup_secret)
    if now > expires_at:
        raise _expired(expires_at, now)
    candidates = _v1_presigned_candidates(req, expires)
    _verify_v1(secret, candidates, signature, access_key_id)
    return AuthResult(access_key_id, "v1-presigned", _security_token(req), None)


def _v1_presigned_candidates(req: SignableRequest, expires: str) -> list[str]:
    # Expires takes the date slot.  oss2 builds it by setting a 'date' header,
    # so an x-oss-date header present at signing time would win there: try it too.
    dates = [expires]
    oss_date = req.header("x-oss-date")
    if oss_date:
        dates.append(oss_date)
    candidates: dict[str, None] = {}
    for date in dates:
        for sts in signing.v1_string_to_sign_candidates(
            req.method, req.headers, req.bucket, req.key, req.query, date
        ):
            candidates.setdefault(sts)
    return list(candidates)


def _verify_v1(secret: str, candidates: list[str], provided: str, access_key_id: str) -> None:
    # Every candidate is computed and compared, so timing does not reveal which
    # sub-resource list matched.
    matched = False
    for string_to_sign in candidates:
        expected = signing.v1_signature(secret, string_to_sign)
        matched |= hmac.compare_digest(expected.encode(), provided.encode())
    if not matched:
        raise _mismatch(access_key_id, provided, candidates[0])


# --- V2 (OSS2) -------------------------------------------------------------------


def _authenticate_v2_header(
    req: SignableRequest, rest: str, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    fields = signing_v2.parse_authorization(rest)
    access_key_id, signature = fields.get("AccessKeyId"), fields.get("Signature")
    if not access_key_id or not signature:
        raise _malformed("Authorization header is invalid.")
    secret = _secret_for(access_key_id, lookup_secret)
    _check_skew(_parse_http_date(signing.v1_date(req.headers)), now)
    to_sign = signing_v2.string_to_sign(
        req.method,
        req.headers,
        req.bucket,
        req.key,
        req.query,
        fields.get("AdditionalHeaders", "").split(";"),
        req.header("date") or "",
    )
    _verify_v2(secret, to_sign, signature, access_key_id)
    return AuthResult(access_key_id, "v2", _security_token(req), None)


def _authenticate_v2_presigned(
    req: SignableRequest, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    access_key_id = req.query_value("x-oss-access-key-id")
    expires = req.query_value("x-oss-expires")
    signature = req.query_value(signing_v2.PRESIGN_SIGNATURE)
    if not access_key_id or not expires or not signature:
        raise _malformed("A presigned URL needs x-oss-access-key-id, x-oss-expires and x-oss-signature.")
    expires_at = _parse_int(expires, "x-oss-expires")
    secret = _secret_for(access_key_id, lookup_secret)
    if now > expires_at:
        raise _expired(expires_at, now)
    to_sign = signing_v2.string_to_sign(
        req.method,
        req.headers,
        req.bucket,
        req.key,
        req.query,
        (req.query_value("x-oss-additional-headers") or "").split(";"),
        expires,
        exclude_query=(signing_v2.PRESIGN_SIGNATURE,),
    )
    _verify_v2(secret, to_sign, signature, access_key_id)
    return AuthResult(access_key_id, "v2-presigned", _security_token(req), None)


def _verify_v2(secret: str, to_sign: str, provided: str, access_key_id: str) -> None:
    expected = signing_v2.signature(secret, to_sign)
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise _mismatch(access_key_id, provided, to_sign)


# --- V4 -----------------------------------------------------------------------


def _authenticate_v4_header(
    req: SignableRequest, rest: str, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    fields = _parse_v4_fields(rest)
    credential = _parse_v4_credential(fields.get("Credential"))
    signature = fields.get("Signature")
    if not signature:
        raise _malformed("Missing Signature in Authorization header.")
    additional = signing.normalize_additional_headers(fields.get("AdditionalHeaders", "").split(";"))
    secret = _secret_for(credential.access_key_id, lookup_secret)
    timestamp = req.header("x-oss-date")
    if not timestamp:
        raise OssError("AccessDenied", "OSS V4 authentication requires the x-oss-date header.")
    _check_skew(_parse_v4_timestamp(timestamp, credential), now)
    canonical = signing.v4_canonical_request(
        req.method, req.bucket, req.key, req.query, req.headers, additional
    )
    _verify_v4(secret, credential, timestamp, canonical, signature)
    return AuthResult(credential.access_key_id, "v4", _security_token(req), credential.region)


def _authenticate_v4_presigned(
    req: SignableRequest, lookup_secret: Callable[[str], str | None], now: float
) -> AuthResult:
    version = req.query_value("x-oss-signature-version")
    if version != signing.V4_ALGORITHM:
        raise _malformed(f"Unsupported x-oss-signature-version {version!r}.")
    credential = _parse_v4_credential(req.query_value("x-oss-credential"))
    timestamp = req.query_value("x-oss-date") or ""
    expires = req.query_value("x-oss-expires") or ""
    signature = req.query_value(_V4_PRESIGN_SIGNATURE)
    if not timestamp or not expires or not signature:
        raise _malformed("A presigned URL needs x-oss-date, x-oss-expires and x-oss-signature.")
    lifetime = _parse_int(expires, "x-oss-expires")
    if not 0 < lifetime <= MAX_V4_PRESIGN_EXPIRES:
        raise _malformed(f"x-oss-expires must be between 1 and {MAX_V4_PRESIGN_EXPIRES} seconds.")
    secret = _secret_for(credential.access_key_id, lookup_secret)
    signed_at = _parse_v4_timestamp(timestamp, credential)
    _check_presign_window(signed_at, lifetime, now)
    additional = signing.normalize_additional_headers(
        (req.query_value("x-oss-additional-headers") or "").split(";")
    )
    canonical = signing.v4_canonical_request(
        req.method,
        req.bucket,
        req.key,
        req.query,
        req.headers,
        additional,
        exclude_query=frozenset([_V4_PRESIGN_SIGNATURE]),
    )
    _verify_v4(secret, credential, timestamp, canonical, signature)
    return AuthResult(credential.access_key_id, "v4-presigned", _security_token(req), credential.region)


def _parse_v4_fields(rest: str) -> dict[str, str]:
    # oss2 separates with ", " and puts AdditionalHeaders last; v2 and ali-oss
    # use "," and put it in the middle.  Parse name=value pairs in any order.
    fields: dict[str, str] = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise _malformed("Authorization header is invalid.")
        fields[name] = value.strip()
    return fields


def _parse_v4_credential(value: str | None) -> _V4Credential:
    # ak/yyyymmdd/region/product/aliyun_v4_request; split from the right in
    # case an access key id ever contains '/'.
    parts = (value or "").rsplit("/", 4)
    if len(parts) == 5 and all(parts[i] for i in (0, 1, 3, 4)) and not parts[2]:
        raise _malformed("The signing region in credential is invalid.")
    if len(parts) != 5 or not all(parts):
        raise _malformed("Invalid credential in Authorization header.")
    access_key_id, date, region, product, terminator = parts
    if not (len(date) == 8 and date.isdigit()):
        raise _malformed("Invalid signing date in credential.")
    if product != signing.V4_PRODUCT or terminator != signing.V4_TERMINATOR:
        raise _malformed("Invalid credential in Authorization header.")
    return _V4Credential(access_key_id, date, region, product)


def _parse_v4_timestamp(timestamp: str, credential: _V4Credential) -> float:
    try:
        parsed = datetime.strptime(timestamp, _V4_DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _malformed(f"Invalid x-oss-date {timestamp!r}; expected yyyymmddThhmmssZ.") from None
    # The scope date and the timestamp are hashed separately, so a client could
    # sign a mismatching pair consistently; OSS refuses it and so do we.
    if timestamp[:8] != credential.date:
        raise _malformed("The signing date in the credential does not match x-oss-date.")
    return parsed.timestamp()


def _verify_v4(secret: str, credential: _V4Credential, timestamp: str, canonical: str, provided: str) -> None:
    string_to_sign = signing.v4_string_to_sign(timestamp, credential.scope, canonical)
    key = signing.v4_signing_key(secret, credential.date, credential.region, credential.product)
    expected = signing.v4_signature(key, string_to_sign)
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise _mismatch(credential.access_key_id, provided, string_to_sign, CanonicalRequest=canonical)


# --- outbound -----------------------------------------------------------------


def sign_v4(
    method: str,
    bucket: str | None,
    key: str | None,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    access_key_id: str,
    secret: str,
    region: str,
    now: float,
    *,
    security_token: str | None = None,
    additional_headers: Sequence[str] = (),
) -> dict[str, str]:
    """Headers to add to an outbound request so that OSS (or another Ferry) accepts it.

    ``key`` and ``query`` are decoded; the caller must put them on the wire
    percent-encoded (any encoding decodes back to the same values, which is
    all the receiver signs).  ``headers`` are the headers that will be sent;
    ``x-oss-*``, Content-Type and Content-MD5 among them are signed.  The
    payload is not hashed (``UNSIGNED-PAYLOAD``), like both Python SDKs.
    ``additional_headers`` names further headers to sign (Ferry's own ``x-ferry-*``).
    """
    timestamp = datetime.fromtimestamp(now, UTC).strftime(_V4_DATETIME_FORMAT)
    added = {"x-oss-date": timestamp, signing.CONTENT_SHA256_HEADER: signing.UNSIGNED_PAYLOAD}
    if security_token:
        added["x-oss-security-token"] = security_token
    signed_headers = {k.lower(): v for k, v in headers.items()} | added
    additional = signing.normalize_additional_headers(additional_headers)
    canonical = signing.v4_canonical_request(method, bucket, key, query, signed_headers, additional)
    credential = _V4Credential(access_key_id, timestamp[:8], region, signing.V4_PRODUCT)
    string_to_sign = signing.v4_string_to_sign(timestamp, credential.scope, canonical)
    signature = signing.v4_signature(
        signing.v4_signing_key(secret, credential.date, region, credential.product), string_to_sign
    )
    listed = f",AdditionalHeaders={';'.join(additional)}" if additional else ""
    added["Authorization"] = (
        f"{signing.V4_ALGORITHM} Credential={access_key_id}/{credential.scope}{listed},Signature={signature}"
    )
    return added


# --- shared helpers -----------------------------------------------------------


def _secret_for(access_key_id: str, lookup_secret: Callable[[str], str | None]) -> str:
    secret = lookup_secret(access_key_id)
    if secret is None:
        raise OssError("InvalidAccessKeyId", OSSAccessKeyId=access_key_id)
    return secret


def security_token_of(req: SignableRequest) -> str | None:
    """The STS security token a request carries (header, or query of a presigned URL), if any."""
    return _security_token(req)


def _security_token(req: SignableRequest) -> str | None:
    # x-oss-security-token: oss2 (headers, V4 URLs) and v2 V4.  security-token:
    # v2's V1 signer sends it as a plain *header*, and V1 presigned URLs carry
    # it as a query parameter (a sub-resource, so it is signed there).
    for value in (
        req.header("x-oss-security-token"),
        req.header("security-token"),
        req.query_value("x-oss-security-token"),
        req.query_value("security-token"),
    ):
        if value:
            return value
    return None


def _parse_http_date(value: str) -> float:
    if not value:
        raise OssError("AccessDenied", "OSS authentication requires a valid Date.")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise OssError("AccessDenied", "OSS authentication requires a valid Date.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _parse_int(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise _malformed(f"{name} must be a non-negative integer.")
    return int(value)


def _check_skew(request_time: float, now: float) -> None:
    if abs(now - request_time) > MAX_SKEW_SECONDS:
        raise OssError(
            "RequestTimeTooSkewed",
            RequestTime=_iso(request_time),
            ServerTime=_iso(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
        )


def _check_presign_window(signed_at: float, lifetime: int, now: float) -> None:
    if now > signed_at + lifetime:
        raise _expired(signed_at + lifetime, now)
    # A URL dated in the future beyond the allowed clock skew is not valid yet.
    if signed_at - now > MAX_SKEW_SECONDS:
        raise OssError("AccessDenied", "Request is not valid yet.", ServerTime=_iso(now))


def _iso(epoch: float) -> str:
    # OSS writes error times like 2023-12-03T12:12:12.000Z; ali-oss parses
    # ServerTime back to correct its clock.
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _malformed(message: str) -> OssError:
    return OssError("InvalidArgument", message)


def _expired(expires_at: float, now: float) -> OssError:
    return OssError("AccessDenied", "Request has expired.", Expires=_iso(expires_at), ServerTime=_iso(now))


def _mismatch(access_key_id: str, provided: str, string_to_sign: str, **extra: str) -> OssError:
    details: Mapping[str, str] = {
        "OSSAccessKeyId": access_key_id,
        "SignatureProvided": provided,
        "StringToSign": string_to_sign,
        **extra,
    }
    return OssError("SignatureDoesNotMatch", **details)
