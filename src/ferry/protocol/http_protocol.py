"""uvicorn's httptools protocol with a leaner response path, the one Ferry's region processes run.

uvicorn writes a response's status line and headers as soon as ``http.response.start`` arrives,
then the body in a second write: two ``send()`` system calls per small response, and every header
name and value goes through two regular expressions. Ferry answers most requests (a 4 KiB GET,
any PUT's 200, every error) with one body message, so the cycle here keeps the head until the
first body message and writes both at once, and checks all the header bytes of a response with
one pass. The behaviour on the wire is uvicorn's, byte for byte; only the number of writes
changes. Bound to uvicorn 0.54 (pinned): the cycle's state machine is uvicorn's own.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

_NAME_FORBIDDEN = bytes(range(0x20)) + b'\x7f()<>@,;:\\[]={} \t"'
_VALUE_FORBIDDEN = bytes(range(0x09)) + bytes(range(0x0A, 0x20)) + b"\x7f"
"""uvicorn's two header patterns as byte sets: ``bytes.translate`` deletes them from all the names
(values) of a response at C speed, and a shorter result means one was there (a regular
expression search costs ~10x more per byte)."""


def _has_any(data: bytes, forbidden: bytes) -> bool:
    return len(data.translate(None, forbidden)) != len(data)


class CoalescingCycle(RequestResponseCycle):
    """One request's ASGI send/receive, writing a response's head together with its first body."""

    _head: bytes | None = None

    async def send(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
                )
            self.response_started = True
            self.waiting_for_100_continue = False
            self._head = self._render_head(message["status"], message.get("headers", []))
            return
        if self.response_complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already completed."
            )
        if message["type"] != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message['type']}'.")
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        head, self._head = self._head, None
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            out = [head] if head else []
        elif self.chunked_encoding:
            out = [head] if head else []
            if body:
                out += [b"%x\r\n" % len(body), body, b"\r\n"]
            if not more_body:
                out.append(b"0\r\n\r\n")
        else:
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            out = [head, body] if head else [body]
        if len(out) == 1:
            self.transport.write(out[0])
        elif out:
            self.transport.write(b"".join(out))
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()

    def _render_head(self, status: int, message_headers: Any) -> bytes:
        headers = self.default_headers + list(message_headers)
        if _has_any(b"".join(name for name, _ in headers), _NAME_FORBIDDEN):
            raise RuntimeError("Invalid HTTP header name.")
        if _has_any(b"".join(value for _, value in headers), _VALUE_FORBIDDEN):
            raise RuntimeError("Invalid HTTP header value.")
        content = [STATUS_LINE[status]]
        has_connection_close = False
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection" and b"close" in [t.lower().strip() for t in value.split(b",")]:
                self.keep_alive = False
                has_connection_close = True
            content.extend((name, b": ", value, b"\r\n"))
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        return b"".join(content)


class FerryHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with :class:`CoalescingCycle` for every request.

    ``on_headers_complete`` is uvicorn's, less what Ferry never configures (a concurrency
    limit, WebSocket upgrades: an upgrade request is served as a plain request).
    """

    def on_headers_complete(self) -> None:
        http_version = self.parser.get_http_version()
        self.scope["method"] = self.parser.get_method().decode("ascii")
        if http_version != "1.1":
            self.scope["http_version"] = http_version
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        self.scope["path"] = self.root_path + path
        self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        self.scope["query_string"] = parsed_url.query or b""
        existing_cycle = self.cycle
        self.cycle = CoalescingCycle(
            scope=self.scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=http_version != "1.0" and self.parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, self.app)
        else:
            # A pipelined request waits for the one before it to be answered.
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, self.app))
