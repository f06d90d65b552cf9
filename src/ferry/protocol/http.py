"""The request and response values that handlers see, independent of the ASGI server."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ParamSpec, TypeVar

from ferry.core.errors import OssError
from ferry.core.identity import Principal
from ferry.core.model import Bucket
from ferry.core.operations import Operation
from ferry.protocol.xmlcodec import MAX_XML_BYTES

P = ParamSpec("P")
T = TypeVar("T")

Receive = Callable[[], Awaitable[dict[str, Any]]]


async def run_blocking(executor: Executor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` in ``executor`` with the caller's context variables (the request ID of its logs)."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, partial(context.run, fn, *args, **kwargs))


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    """Sync chunk iterator (file reads) pulled in the executor; replaces ``body`` when set."""
    content_length: int | None = None
    """Length of ``stream`` when set (``body``'s length is taken from the bytes); a stream
    without one goes out chunked."""

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


def xml_response(body: bytes, status: int = 200) -> Response:
    return Response(status=status, headers=[("Content-Type", "application/xml")], body=body)


@dataclass
class RequestContext:
    method: str
    bucket: str | None
    key: str | None
    query: Mapping[str, str]
    headers: Mapping[str, str]
    operation: Operation
    principal: Principal
    request_id: str
    receive: Receive
    executor: Executor
    bucket_record: Bucket | None = None
    """The request's bucket as found when the request was admitted (None for service calls)."""
    _body_consumed: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def q(self, name: str) -> str | None:
        return self.query.get(name)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking work (SQLite, fsync) in the region's executor, off the event loop."""
        return await run_blocking(self.executor, fn, *args, **kwargs)

    async def body_chunks(self) -> AsyncIterator[bytes]:
        if self._body_consumed:
            return
        self._body_consumed = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise OssError("InvalidRequest", "The client closed the connection mid-body.")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def read_body(self, limit: int = MAX_XML_BYTES) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.body_chunks():
            size += len(chunk)
            if size > limit:
                raise OssError("EntityTooLarge", "The request body is too large for this operation.")
            parts.append(chunk)
        return b"".join(parts)
