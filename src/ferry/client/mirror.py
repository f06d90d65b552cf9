"""Mirror back-to-origin: fetch a missing object from the origin a website rule names.

Blocking (run it in an executor).  Tries ``MirrorURL`` and then ``MirrorURLSlave``;
only 200 answers count, and the body is streamed to the caller's writer.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ferry.core.website import Redirect

TIMEOUT_SECONDS = 10.0
CHUNK = 256 * 1024
_HOP_BY_HOP = frozenset({"host", "authorization", "connection", "content-length", "transfer-encoding"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True)
class Fetched:
    headers: dict[str, str]
    """The origin's response headers, names lower-cased."""


def _request_headers(redirect: Redirect, incoming: Mapping[str, str]) -> dict[str, str]:
    rules = redirect.mirror_headers
    headers: dict[str, str] = {}
    if rules is not None:
        if rules.pass_all:
            headers.update({k: v for k, v in incoming.items() if k not in _HOP_BY_HOP})
        for name in rules.pass_:
            if name.lower() in incoming and name.lower() not in _HOP_BY_HOP:
                headers[name.lower()] = incoming[name.lower()]
        for name in rules.remove:
            headers.pop(name.lower(), None)
        for pair in rules.set_:
            headers[pair.key.lower()] = pair.equals
    return {k: v for k, v in headers.items() if not k.startswith("x-oss-")}


def fetch(
    redirect: Redirect,
    key: str,
    query: str,
    incoming: Mapping[str, str],
    write: Callable[[bytes], None],
) -> Fetched | None:
    """Stream the origin's copy of ``key`` to ``write``; None when no origin has it."""
    path = quote(key, safe="/")
    if query and (redirect.mirror_pass_query_string or redirect.pass_query_string):
        path += "?" + query
    handlers: list[urllib.request.BaseHandler] = []
    if not redirect.mirror_follow_redirect:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    headers = _request_headers(redirect, incoming)
    for base in (redirect.mirror_url, redirect.mirror_url_slave):
        if not base or not base.startswith(("http://", "https://")):
            continue
        request = urllib.request.Request(base + path, headers=headers, method="GET")
        try:
            response = opener.open(request, timeout=TIMEOUT_SECONDS)
        except (urllib.error.URLError, OSError, ValueError):
            continue  # this origin is down or has no such object: try the next
        with response:
            if response.status != 200:
                continue
            # From here on the bytes are this origin's: a failure mid-body is the caller's error.
            while chunk := response.read(CHUNK):
                write(chunk)
            return Fetched({k.lower(): v for k, v in response.headers.items()})
    return None
