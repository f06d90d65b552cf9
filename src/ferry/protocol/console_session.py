"""The console's sign-in: an access key pair once, then a signed cookie.

The cookie holds the key ID, an expiry and an HMAC-SHA256 of both made with the
key's secret, so nothing is stored server-side and revoking (or rotating) the
key ends every session made with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

COOKIE = "ferry_console"
SESSION_SECONDS = 12 * 3600


def _mac(secret: str, key_id: str, expires: int, region: str) -> str:
    message = f"{key_id}\n{expires}\n{region}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_in(
    key_id: str, secret: str, region: str, now: float, secret_of: Callable[[str], str | None]
) -> str | None:
    """The cookie value for a correct key pair, or None."""
    known = secret_of(key_id) if key_id else None
    if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
        return None
    expires = int(now) + SESSION_SECONDS
    encoded_id = base64.urlsafe_b64encode(key_id.encode()).decode()
    return f"{encoded_id}.{expires}.{_mac(known, key_id, expires, region)}"


def session_key(cookie: str, region: str, now: float, secret_of: Callable[[str], str | None]) -> str | None:
    """The access key ID a cookie value was made for, if it is genuine and not expired."""
    try:
        encoded_id, expires_text, mac = cookie.split(".")
        key_id = base64.urlsafe_b64decode(encoded_id.encode()).decode()
        expires = int(expires_text)
    except ValueError:
        return None
    if expires < now:
        return None
    secret = secret_of(key_id)
    if secret is None or not hmac.compare_digest(mac, _mac(secret, key_id, expires, region)):
        return None
    return key_id


def cookie_of(header: str | None) -> str | None:
    """Our cookie's value from a Cookie header."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def set_cookie(value: str) -> str:
    return f"{COOKIE}={value}; Path=/-/console; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Strict"


def clear_cookie() -> str:
    return f"{COOKIE}=; Path=/-/console; Max-Age=0; HttpOnly; SameSite=Strict"
