"""The ASGI application of one region: address, authenticate, route, authorize, dispatch, render.

Every response leaves through :meth:`FerryApp._send`, which adds the headers
OSS always sends (``x-oss-request-id``, ``Date``, ``Server``); every error
leaves through :func:`render_error`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

from ferry.core.errors import OssError
from ferry.core.identity import ANONYMOUS, Principal
from ferry.core.model import Bucket, ObjectAcl
from ferry.core.operations import Access, Level, Operation
from ferry.iam.authorizer import authorize
from ferry.observability.logs import REQUEST_ID
from ferry.protocol.addressing import resolve
from ferry.protocol.auth import authenticate
from ferry.protocol.documents import error_document
from ferry.protocol.handlers import HANDLERS
from ferry.protocol.http import RequestContext, Response, run_blocking
from ferry.protocol.ops_http import OpsHttp
from ferry.protocol.routing import route
from ferry.protocol.signable import SignableRequest
from ferry.region import RegionRuntime

log = logging.getLogger("ferry.http")
access_log = logging.getLogger("ferry.access")

_API = "ferry.api"
"""Where a request's API name (its operation, or Metrics/Console) is kept in the ASGI scope."""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_REQUEST_ID_BYTES = 12  # 24 hex characters, the length OSS uses and SDK tests assert


def new_request_id() -> str:
    return os.urandom(_REQUEST_ID_BYTES).hex().upper()


def render_error(error: OssError, request_id: str, host_id: str, method: str) -> Response:
    headers = [("Content-Type", "application/xml"), ("x-oss-ec", error.details.get("EC", ""))]
    body = b""
    if method != "HEAD" and error.status != 304:  # a 304 never has a body
        body = error_document(error.code, error.message, request_id, host_id, error.details)
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


class FerryApp:
    def __init__(self, runtime: RegionRuntime, *, access_log: bool = False) -> None:
        self.rt = runtime
        self.host_id = runtime.config.endpoint_host
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
        headers = _headers_of(scope)
        ops_api = self.ops.api_of(method, scope["path"], scope.get("query_string", b""), headers)
        try:
            if ops_api is not None:
                scope[_API] = ops_api
                response = await self.ops.handle(method, scope["path"], headers, receive)
            else:
                response = await self._handle(scope, headers, receive, request_id)
        except OssError as error:
            response = render_error(error, request_id, self.host_id, method)
        except Exception:
            log.exception("internal error")
            response = render_error(OssError("InternalError"), request_id, self.host_id, method)
        try:
            await self._send(send, response, request_id, method)
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
        self, scope: Scope, headers: dict[str, str], receive: Receive, request_id: str
    ) -> Response:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        raw_target = raw_path.decode("latin-1")
        if scope.get("query_string"):
            raw_target += "?" + scope["query_string"].decode("latin-1")
        target = resolve(raw_target, headers.get("host", ""), self.rt.config.endpoint_hosts)
        query = dict(target.query)
        method = scope["method"]
        op = route(method, target.bucket, target.key, query, headers)
        scope[_API] = op.name
        signable = SignableRequest(method, target.bucket, target.key, target.query, headers)
        # One executor hop for everything a request must pass before its handler runs.
        principal, bucket = await run_blocking(
            self.rt.executor, self._admit, signable, op, query.get("versionId")
        )
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

    def _admit(
        self, signable: SignableRequest, op: Operation, version_id: str | None
    ) -> tuple[Principal, Bucket | None]:
        """Authenticate, find the bucket, authorize (blocking: runs in the executor)."""
        result = authenticate(signable, self.rt.secret_of, self.rt.clock.now())
        principal = ANONYMOUS
        if result.access_key_id is not None:
            key = self.rt.access_key(result.access_key_id)
            assert key is not None  # authenticate() found its secret a moment ago
            principal = Principal(account_id=key.account_id, access_key_id=key.access_key_id)
        if op.level is Level.SERVICE or op is Operation.PutBucket or op.access is Access.SERVICE:
            authorize(op, principal, None)
            # Region-to-region object calls find their bucket here too (None: the handler says so).
            found = (
                self.rt.buckets.find(signable.bucket)
                if op.level is Level.OBJECT and signable.bucket
                else None
            )
            return principal, found
        assert signable.bucket is not None
        bucket = self.rt.buckets.require(signable.bucket)
        object_acl = None
        if op.level is Level.OBJECT and principal.anonymous and signable.key is not None:
            key_name = signable.key

            def object_acl() -> ObjectAcl | None:
                return self.rt.objects.acl_of(bucket, key_name, version_id)

        authorize(op, principal, bucket, object_acl)
        return principal, bucket

    async def _send(self, send: Send, response: Response, request_id: str, method: str) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (b"x-oss-request-id", request_id.encode()),
            (b"date", formatdate(usegmt=True).encode()),
            (b"server", b"AliyunOSS"),
        ]
        for name, value in response.headers:
            headers.append((name.lower().encode("latin-1"), value.encode("utf-8")))
        length = response.content_length if response.stream is not None else len(response.body)
        if not any(name == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(length or 0).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if method == "HEAD" or response.stream is None:
            body = b"" if method == "HEAD" else response.body
            await send({"type": "http.response.body", "body": body})
            if response.stream is not None:
                _close(response.stream)
            return
        await self._send_stream(send, response)

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


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()
