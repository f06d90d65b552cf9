"""The operator's endpoints of a region: ``/metrics`` and the console under ``/-/console``.

Only path-style requests to the region's own host reach them: in virtual-host
style ``/-/console`` is an object key.  ``/metrics`` (for Prometheus) answers
only a GET with no query and no signature, so any signed ListObjects of a
bucket named ``metrics`` still lists it; ``/-/metrics`` is the same page
without that ambiguity.  The console's data needs a signed-in access key.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any, ParamSpec, TypeVar

from ferry.core.errors import OssError
from ferry.protocol import console_data, console_session
from ferry.protocol.addressing import is_service_host, split_host
from ferry.protocol.http import Response, run_blocking
from ferry.region import RegionRuntime

Receive = Callable[[], Awaitable[dict[str, Any]]]
P = ParamSpec("P")
T = TypeVar("T")

MAX_LOGIN_BYTES = 4096
_ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def _asset(name: str) -> bytes:
    return resources.files("ferry.protocol").joinpath("console_static", name).read_bytes()


def json_response(document: object, status: int = 200) -> Response:
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(
        status=status,
        headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        body=body,
    )


class OpsHttp:
    def __init__(self, rt: RegionRuntime) -> None:
        self.rt = rt
        self._page = _asset("index.html")
        self._assets = {name: (_asset(name), kind) for name, kind in _ASSETS.items()}

    def api_of(self, method: str, path: str, query: bytes, headers: Mapping[str, str]) -> str | None:
        """The metrics label of an operator request (``Metrics``, ``Console``), None for OSS requests."""
        if not path.startswith(("/-/", "/metrics")):
            return None
        if not is_service_host(split_host(headers.get("host", "")), self.rt.config.endpoint_hosts):
            return None
        if path == "/metrics":
            signed = "authorization" in headers
            return "Metrics" if method == "GET" and not query and not signed else None
        return "Metrics" if path == "/-/metrics" else "Console"

    async def handle(self, method: str, path: str, headers: Mapping[str, str], receive: Receive) -> Response:
        if path in ("/metrics", "/-/metrics"):
            if method != "GET":
                raise OssError("MethodNotAllowed")
            body, content_type = await self._in_executor(self.rt.metrics.render)
            return Response(headers=[("Content-Type", content_type)], body=body)
        if path in ("/-/console", "/-/console/"):
            return Response(headers=[("Content-Type", "text/html; charset=utf-8")], body=self._page)
        name = path.removeprefix("/-/console/static/")
        if name in self._assets:
            body, kind = self._assets[name]
            return Response(headers=[("Content-Type", kind), ("Cache-Control", "no-cache")], body=body)
        if path == "/-/console/api/session":
            return await self._session(method, receive)
        if path == "/-/console/api/overview" and method == "GET":
            account = await self._in_executor(self._signed_in, headers.get("cookie"))
            if account is None:
                return json_response({"error": "sign in with an access key"}, status=401)
            return json_response(await self._in_executor(console_data.overview, self.rt, account))
        return json_response({"error": f"nothing at {path}"}, status=404)

    async def _session(self, method: str, receive: Receive) -> Response:
        if method == "DELETE":
            return json_response({}).header("Set-Cookie", console_session.clear_cookie())
        if method != "POST":
            raise OssError("MethodNotAllowed")
        try:
            sent = json.loads(await _read(receive, MAX_LOGIN_BYTES))
            key_id, secret = str(sent["access_key_id"]), str(sent["access_key_secret"])
        except (ValueError, KeyError, TypeError):
            return json_response({"error": "send access_key_id and access_key_secret as JSON"}, 400)
        rt = self.rt
        cookie = await self._in_executor(
            console_session.sign_in, key_id, secret, rt.config.name, rt.clock.now(), self._secret_of
        )
        if cookie is None:
            return json_response({"error": "unknown access key or wrong secret"}, status=403)
        response = json_response({"access_key_id": key_id})
        return response.header("Set-Cookie", console_session.set_cookie(cookie))

    def _signed_in(self, cookie_header: str | None) -> str | None:
        """The signed-in account ID, or None."""
        cookie = console_session.cookie_of(cookie_header)
        if cookie is None:
            return None
        rt = self.rt
        key_id = console_session.session_key(cookie, rt.config.name, rt.clock.now(), self._secret_of)
        resolved = rt.iam.resolve(key_id, None, rt.clock.now()) if key_id else None
        return resolved.caller.principal.account_id if resolved else None

    def _secret_of(self, access_key_id: str) -> str | None:
        # Long-lived keys only: an STS key cannot sign in to the console (it needs its token).
        resolved = self.rt.iam.resolve(access_key_id, None, self.rt.clock.now())
        return resolved.secret if resolved else None

    async def _in_executor(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await run_blocking(self.rt.executor, fn, *args, **kwargs)


async def _read(receive: Receive, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise OssError("InvalidRequest", "The client closed the connection mid-body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise OssError("EntityTooLarge")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)
