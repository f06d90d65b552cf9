"""What the access log keeps of one request (see :mod:`ferry.service.access_log`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ferry.service.access_log import AccessRecord


@dataclass
class Trace:
    """Filled in as a request is served: the bucket it named, the operation, who sent it."""

    bucket: str | None = None
    key: str | None = None
    operation: str = "-"
    requester: str = ""
    access_key_id: str = ""
    error_code: str = ""
    logged: bool = False
    """The bucket has an access log (only then is the request recorded)."""


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def record_of(
    scope: dict[str, Any], trace: Trace, status: int, sent: int, started: float, request_id: str
) -> AccessRecord:
    client = scope.get("client") or ("", 0)
    uri = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if scope.get("query_string"):
        uri += "?" + scope["query_string"].decode("latin-1")
    length = _header(scope, b"content-length")
    return AccessRecord(
        at=time.time(),
        remote=str(client[0]),
        method=scope["method"],
        uri=uri,
        status=status,
        sent_bytes=sent,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        referer=_header(scope, b"referer"),
        user_agent=_header(scope, b"user-agent"),
        host=_header(scope, b"host"),
        request_id=request_id,
        requester=trace.requester,
        operation=trace.operation,
        bucket=trace.bucket or "",
        key=trace.key or "",
        error_code=trace.error_code,
        request_length=int(length) if length.isdigit() else 0,
        access_key_id=trace.access_key_id,
    )
