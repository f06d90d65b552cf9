"""The parts of an HTTP request that the OSS signature schemes cover.

Built once by the router from the raw request, after addressing has been
resolved, and handed to the pure signing functions.  Nothing here knows about
ASGI, so the signing code is testable with plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SignableRequest:
    method: str
    """Upper-case HTTP method."""
    bucket: str | None
    """Bucket name resolved from path or Host; None for service-level calls."""
    key: str | None
    """Object key, fully URL-decoded; None for bucket- or service-level calls."""
    query: Sequence[tuple[str, str]]
    """Query parameters, URL-decoded, in arrival order; a bare ``k`` is ``("k", "")``."""
    headers: Mapping[str, str]
    """Header names lower-cased; repeated headers joined with ``,``."""

    def query_value(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())
