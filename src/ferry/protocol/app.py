"""The ASGI application of one region: address, authenticate, route, authorize, dispatch, render.

Every response leaves through :meth:`FerryApp._send`, which adds the headers
OSS always sends (``x-oss-request-id``, ``Date``, ``Server``); every error
leaves through :func:`render_error`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from ferry.core.bucket_options import LoggingConfiguration
from ferry.core.cors import CorsConfiguration
from ferry.core.errors import OssError
from ferry.core.names import check_version_id
from ferry.core.operations import Access, Level, Operation
from ferry.observability.logs import REQUEST_ID
from ferry.protocol import bucket_guards, traffic
from ferry.protocol.access_trace import Trace, record_of
from ferry.protocol.addressing import Target, resolve
from ferry.protocol.admission import Admission, Connection
from ferry.protocol.documents import error_document
from ferry.protocol.handlers import HANDLERS, cors
from ferry.protocol.http import RequestContext, Response
from ferry.protocol.ops_http import OpsHttp
from ferry.protocol.routing import route
from ferry.protocol.signable import SignableRequest
from ferry.protocol.xmlcodec import MAX_XML_BYTES
from ferry.region import RegionRuntime

log = logging.getLogger("ferry.http")
access_log = logging.getLogger("ferry.access")

_API = "ferry.api"
"""Where a request's API name (its operation, or Metrics/Console) is kept in the ASGI scope."""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_REQUEST_ID_PREFIX = os.urandom(8).hex().upper()
_request_counter = itertools.count(int.from_bytes(os.urandom(3)))


def new_request_id() -> str:
    """24 hex characters, the length OSS uses and SDK tests assert: a random prefix per process
    and a counter, unique without a system call per request."""
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter) & 0xFFFFFFFF:08X}"


def render_error(error: OssError, request_id: str, host_id: str, method: str) -> Response:
    headers = [("Content-Type", "application/xml"), ("x-oss-ec", error.details.get("EC", ""))]
    body = b""
    if error.status != 304:  # a 304 never has a body
        body = error_document(error.code, error.message, request_id, host_id, error.details)
    if method == "HEAD" and body:
        # A HEAD answer has no body: OSS sends the error document base64-encoded in x-oss-err,
        # which is how oss2 tells NoSuchBucket from NoSuchKey on HeadObject / GetObjectMeta.
        headers.append(("x-oss-err", base64.b64encode(body).decode()))
        body = b""
    response = Response(status=error.status, headers=[h for h in headers if h[1]], body=body)
    for name, value in error.headers:
        response.header(name, value)
    return response


def _headers_of(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("utf-8", "surrogateescape")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


_TRAFFIC_LIMIT = traffic.HEADER.encode()


def _traffic_limit(scope: Scope) -> int | None:
    """The request's x-oss-traffic-limit (header or presigned-URL query), looked for cheaply."""
    headers = {
        n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"] if n.lower() == _TRAFFIC_LIMIT
    }
    raw_query = scope.get("query_string") or b""
    query = dict(parse_qsl(raw_query.decode("latin-1"))) if _TRAFFIC_LIMIT in raw_query else {}
    return traffic.requested_limit(headers, query)


def _declares_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            return value.strip() not in (b"", b"0")
        if name.lower() == b"transfer-encoding":
            return True
    return False


class FerryApp:
    def __init__(self, runtime: RegionRuntime, *, access_log: bool = False) -> None:
        self.rt = runtime
        self.host_id = runtime.config.endpoint_host
        self.admission = Admission(runtime)
        self._guards = bucket_guards.BucketGuards(runtime.configs, runtime.retention, runtime.usage)
        self.ops = OpsHttp(runtime)
        self.access_log = access_log
        """One INFO line per request on ``ferry.access`` (``--access-log``); off by default."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = new_request_id()
        REQUEST_ID.set(request_id)  # this request's own context: every log line carries it
        method = scope["method"]
        pacer = None
        trace = Trace()
        trace_started = time.monotonic()
        headers = _headers_of(scope)
        ops_api = self.ops.api_of(method, scope["path"], scope.get("query_string", b""), headers)
        try:
            if ops_api is not None:
                scope[_API] = ops_api
                response = await self.ops.handle(method, scope["path"], headers, receive)
            else:
                limit = _traffic_limit(scope)
                if limit is not None:
                    pacer = traffic.Pacer(limit)
                    receive = traffic.paced_receive(receive, limit)
                response = await self._handle(scope, headers, receive, request_id, trace)
        except OssError as error:
            trace.error_code = error.code
            response = render_error(error, request_id, self.host_id, method)
        except Exception:
            log.exception("internal error")
            response = render_error(OssError("InternalError"), request_id, self.host_id, method)
        if method in ("GET", "HEAD") and _declares_body(scope):
            # A body on a GET is never read: the connection cannot be trusted to be in step
            # for another request (clients that copy Content-Length onto GETs), so end it.
            response.header("Connection", "close")
        try:
            await self._send(send, response, request_id, method, pacer)
        finally:
            elapsed = time.perf_counter() - started
            api = scope.get(_API, "Unrouted")
            self.rt.metrics.request(api, response.status, elapsed)
            if self.access_log:
                access_log.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    response.status,
                    extra={"api": api, "status": response.status, "seconds": round(elapsed, 6)},
                )
        if trace.logged:
            sent = response.content_length if response.stream is not None else len(response.body)
            record = record_of(scope, trace, response.status, sent or 0, trace_started, request_id)
            self.rt.access_log.record(record)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.rt.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.rt.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(
        self, scope: Scope, headers: dict[str, str], receive: Receive, request_id: str, trace: Trace
    ) -> Response:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        raw_target = raw_path.decode("latin-1")
        if scope.get("query_string"):
            raw_target += "?" + scope["query_string"].decode("latin-1")
        target = resolve(raw_target, headers.get("host", ""), self.rt.config.endpoint_hosts)
        trace.bucket, trace.key = target.bucket, target.key
        method = scope["method"]
        if "origin" in headers and target.bucket is not None and method != "OPTIONS":
            # A browser's cross-origin request: the bucket's CORS rules add their headers to the
            # answer, an error included.
            extra = self._cors_headers(target.bucket, method, headers)
            try:
                response = await self._serve(scope, receive, request_id, target, headers, trace)
            except OssError as error:
                error.headers.extend(extra)
                raise
            response.headers.extend(extra)
            return response
        return await self._serve(scope, receive, request_id, target, headers, trace)

    def _cors_headers(self, bucket: str, method: str, headers: dict[str, str]) -> list[tuple[str, str]]:
        config = self.rt.configs.get(bucket, CorsConfiguration)  # cached in memory: no thread hop
        return cors.actual_request_headers(config, method, headers)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        request_id: str,
        target: Target,
        headers: dict[str, str],
        trace: Trace,
    ) -> Response:
        query = dict(target.query)
        method = scope["method"]
        op = route(method, target.bucket, target.key, query, headers)
        scope[_API] = op.name
        trace.operation = op.name
        if query.get("versionId") is not None and op.level is Level.OBJECT:
            check_version_id(query["versionId"])
        signable = SignableRequest(method, target.bucket, target.key, target.query, headers)
        client = scope.get("client")
        connection = Connection(client[0] if client else None, scope.get("scheme") == "https")
        body = None
        if op is Operation.DeleteMultipleObjects:
            # Its keys are authorized one by one before the handler runs; the handler reads
            # the same bytes again.
            body = await _read_xml_body(receive)
            receive = _replay(body)
        # On the loop, no thread hop: keys, buckets, IAM records and bucket configurations are
        # cached in memory, and what is left (an HMAC, a policy evaluation, an object ACL read
        # for anonymous callers) costs less than a hop would.
        principal, bucket = self.admission.admit(signable, op, query, connection, body)
        if bucket is not None and op.access is not Access.SERVICE:
            self._guards.admit(op, principal, bucket, target.key, headers, query)
            trace.logged = self.rt.configs.get(bucket.name, LoggingConfiguration) is not None
        trace.requester = principal.account_id or ""
        trace.access_key_id = principal.access_key_id or ""
        ctx = RequestContext(
            method=method,
            bucket=target.bucket,
            key=target.key,
            query=query,
            headers=headers,
            operation=op,
            principal=principal,
            request_id=request_id,
            receive=receive,
            executor=self.rt.executor,
            bucket_record=bucket,
        )
        return await HANDLERS[op](ctx, self.rt)

    async def _send(
        self, send: Send, response: Response, request_id: str, method: str, pacer: traffic.Pacer | None = None
    ) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (b"x-oss-request-id", request_id.encode()),
            (b"date", _http_date_now()),
            (b"server", b"AliyunOSS"),
        ]
        for name, value in response.headers:
            headers.append((name.lower().encode("latin-1"), value.encode("utf-8")))
        length = response.content_length if response.stream is not None else len(response.body)
        chunked = response.stream is not None and length is None  # e.g. a gzip-compressed GET
        if not chunked and not any(name == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(length or 0).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if pacer is not None and method != "HEAD" and (response.stream is not None or response.body):
            await self._send_paced(send, response, pacer)
            return
        if method == "HEAD" or response.stream is None:
            body = b"" if method == "HEAD" else response.body
            await send({"type": "http.response.body", "body": body})
            if response.stream is not None:
                _close(response.stream)
            return
        await self._send_stream(send, response)

    async def _send_paced(self, send: Send, response: Response, pacer: traffic.Pacer) -> None:
        """The body no faster than the request's x-oss-traffic-limit."""
        loop = asyncio.get_running_loop()
        stream = response.stream
        pending = b"" if stream is not None else response.body
        try:
            while True:
                if not pending and stream is not None:
                    pending = await loop.run_in_executor(self.rt.executor, next, stream, b"") or b""
                if not pending:
                    break
                piece, pending = pending[: pacer.chunk], pending[pacer.chunk :]
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                await pacer.account(len(piece))
            await send({"type": "http.response.body", "body": b""})
        finally:
            if stream is not None:
                _close(stream)

    async def _send_stream(self, send: Send, response: Response) -> None:
        stream = response.stream
        assert stream is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                chunk = await loop.run_in_executor(self.rt.executor, next, stream, None)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            _close(stream)


_date: tuple[int, bytes] = (0, b"")


def _http_date_now() -> bytes:
    """The Date header, formatted once a second rather than once a response."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True).encode())
    return _date[1]


async def _read_xml_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise OssError("InvalidRequest", "The client closed the connection mid-body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_XML_BYTES:
            raise OssError("EntityTooLarge", "The request body is too large for this operation.")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes) -> Receive:
    """A receive channel that delivers a body already read, once."""
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()
