"""The parts of an HTTP request that the OSS signature schemes cover.

Built once by the router from the raw request, after addressing has been
resolved, and handed to the pure signing functions.  Nothing here knows about
ASGI, so the signing code is testable with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


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

    _first: dict[str, str] = field(init=False, repr=False, compare=False)
    """The first value of each query parameter: signature checks look several up per request."""

    def __post_init__(self) -> None:
        first: dict[str, str] = {}
        for k, v in self.query:
            first.setdefault(k, v)
        object.__setattr__(self, "_first", first)

    def query_value(self, name: str) -> str | None:
        return self._first.get(name)

    def has_query(self, names: Iterable[str]) -> bool:
        """Whether any of ``names`` is among the query parameters."""
        return not self._first.keys().isdisjoint(names)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())
