"""Ferry's uvicorn protocol: the bytes on the wire are uvicorn's, in fewer writes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from ferry.protocol.http_protocol import FerryHttpProtocol

Message = dict[str, Any]


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 9100)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _app(messages: list[Message]) -> Any:
    async def app(scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        for message in messages:
            await send(message)

    return app


def _exchange(protocol_class: type[HttpToolsProtocol], app: Any, request: bytes) -> RecordingTransport:
    async def run() -> RecordingTransport:
        config = uvicorn.Config(app, lifespan="off", ws="none", log_config=None)
        config.load()
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
        transport = RecordingTransport()
        protocol.connection_made(transport)
        protocol.data_received(request)
        for _ in range(50):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport

    return asyncio.run(run())


def _start(headers: list[tuple[bytes, bytes]], status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers}


GET = b"GET /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HEAD = b"HEAD /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

CASES = {
    "one body": [
        _start([(b"content-length", b"5"), (b"etag", b'"x"')]),
        {"type": "http.response.body", "body": b"hello"},
    ],
    "streamed": [
        _start([(b"content-length", b"6")]),
        {"type": "http.response.body", "body": b"abc", "more_body": True},
        {"type": "http.response.body", "body": b"def"},
    ],
    "chunked": [
        _start([]),
        {"type": "http.response.body", "body": b"abc", "more_body": True},
        {"type": "http.response.body", "body": b""},
    ],
    "close": [_start([(b"content-length", b"0"), (b"connection", b"close")]), {"type": "http.response.body"}],
    "no content": [_start([], status=204), {"type": "http.response.body"}],
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("request_bytes", [GET, HEAD, GET + GET], ids=["get", "head", "pipelined"])
def test_same_bytes_as_uvicorn(name: str, request_bytes: bytes) -> None:
    ours = _exchange(FerryHttpProtocol, _app(CASES[name]), request_bytes)
    theirs = _exchange(HttpToolsProtocol, _app(CASES[name]), request_bytes)
    assert b"".join(ours.writes) == b"".join(theirs.writes)
    assert ours.closed == theirs.closed


def test_a_small_response_is_one_write() -> None:
    transport = _exchange(FerryHttpProtocol, _app(CASES["one body"]), GET)
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b'etag: "x"\r\n\r\nhello')


def test_head_sends_only_the_head() -> None:
    transport = _exchange(FerryHttpProtocol, _app(CASES["one body"]), HEAD)
    assert len(transport.writes) == 1
    assert transport.writes[0].endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "header",
    [
        (b"x-oss-meta-a", b"one\r\nInjected: yes"),
        (b"x-oss-meta-a", b"bell\x07"),
        (b"bad name", b"v"),
        (b"a:b", b"v"),
    ],
)
def test_invalid_headers_are_refused_not_sent(header: tuple[bytes, bytes]) -> None:
    """As uvicorn: nothing of that response reaches the client, and the connection is closed."""
    messages = [_start([header, (b"content-length", b"2")]), {"type": "http.response.body", "body": b"ok"}]
    ours = _exchange(FerryHttpProtocol, _app(messages), GET)
    theirs = _exchange(HttpToolsProtocol, _app(messages), GET)
    assert ours.writes == theirs.writes == []
    assert ours.closed and theirs.closed


def test_a_tab_in_a_value_is_allowed() -> None:
    messages = [
        _start([(b"x-oss-meta-a", b"a\tb"), (b"content-length", b"2")]),
        {"type": "http.response.body", "body": b"ok"},
    ]
    transport = _exchange(FerryHttpProtocol, _app(messages), GET)
    assert b"x-oss-meta-a: a\tb\r\n" in transport.writes[0]
    assert transport.writes[0].endswith(b"ok")


def test_forbidden_bytes_are_uvicorns_patterns() -> None:
    from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE

    from ferry.protocol.http_protocol import _NAME_FORBIDDEN, _VALUE_FORBIDDEN

    for code in range(256):
        byte = bytes([code])
        assert (HEADER_RE.search(byte) is not None) == (code in _NAME_FORBIDDEN)
        assert (HEADER_VALUE_RE.search(byte) is not None) == (code in _VALUE_FORBIDDEN)
