"""A small, signed (V4) OSS client that Ferry uses to talk to its other regions.

Blocking (``http.client``): callers run it in an executor thread.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from ferry.core.errors import ERROR_TABLE, OssError
from ferry.protocol.auth import sign_v4
from ferry.protocol.xmlcodec import parse, text_of
from ferry.storage.interfaces import AccessKey

DEFAULT_TIMEOUT = 30.0
STREAM_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class ClientResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class RemoteUnavailable(Exception):
    """The other region could not be reached (connection refused, reset, timed out)."""


class ConnectionPool:
    """Keep-alive connections, one per thread and endpoint (http.client is not thread-safe)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, host: str, port: int, https: bool, timeout: float) -> http.client.HTTPConnection:
        conns: dict[tuple[str, int, bool], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "c", {}
        )
        conn = conns.get((host, port, https))
        if conn is None:
            cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
            conn = cls(host, port, timeout=timeout, blocksize=STREAM_BLOCK)
            conns[(host, port, https)] = conn
        return conn

    def discard(self, host: str, port: int, https: bool) -> None:
        conns: dict[tuple[str, int, bool], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "c", {}
        )
        conn = conns.pop((host, port, https), None)
        if conn is not None:
            conn.close()


class OssClient:
    def __init__(
        self,
        endpoint: str,
        key: AccessKey,
        region: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        pool: ConnectionPool | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._https = parts.scheme == "https"
        self._key = key
        self._region = region.removeprefix("oss-")
        self._timeout = timeout
        self._pool = pool

    def request(
        self,
        method: str,
        bucket: str,
        key: str | None = None,
        *,
        query: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | BinaryIO = b"",
        content_length: int | None = None,
    ) -> ClientResponse:
        """One request; a file ``body`` is streamed (give ``content_length``), never read whole."""
        query_list = list(query)
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        length = len(body) if isinstance(body, bytes) else content_length
        if length is None:
            raise ValueError("a streamed body needs content_length")
        all_headers["content-length"] = str(length)
        all_headers.update(
            sign_v4(
                method,
                bucket,
                key,
                query_list,
                all_headers,
                self._key.access_key_id,
                self._key.secret,
                self._region,
                time.time(),
                # Ferry's own headers (replica order, origin, account and role) are signed too.
                additional_headers=[name for name in all_headers if name.startswith("x-ferry-")],
            )
        )
        path = "/" + quote(bucket, safe="") + "/" + (quote(key, safe="/") if key else "")
        if query_list:
            path += "?" + "&".join(
                quote(k, safe="") + ("=" + quote(v, safe="") if v else "") for k, v in query_list
            )
        if self._pool is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout, blocksize=STREAM_BLOCK)
            try:
                status, response_headers, data = _exchange(conn, method, path, body, all_headers)
            finally:
                conn.close()
        else:
            status, response_headers, data = self._pooled(method, path, body, all_headers)
        return ClientResponse(status, response_headers, data)

    def _pooled(
        self, method: str, path: str, body: bytes | BinaryIO, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._pool is not None
        conn = self._pool.get(self._host, self._port, self._https, self._timeout)
        try:
            return _exchange(conn, method, path, body, headers)
        except RemoteUnavailable:
            # A kept-alive connection may have been closed by the peer meanwhile: try once afresh.
            self._pool.discard(self._host, self._port, self._https)
            if not isinstance(body, bytes):
                body.seek(0)
            conn = self._pool.get(self._host, self._port, self._https, self._timeout)
            try:
                return _exchange(conn, method, path, body, headers)
            except RemoteUnavailable:
                self._pool.discard(self._host, self._port, self._https)
                raise


def _exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | BinaryIO, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise RemoteUnavailable(f"{conn.host}:{conn.port}: {exc}") from exc
    if response.will_close:
        conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def raise_for_error(response: ClientResponse) -> None:
    """Re-raise an OSS error answer of another region as our own OssError."""
    if response.status < 300:
        return
    try:
        root = parse(response.body, "Error")
        code = text_of(root, "Code") or "InternalError"
        message = text_of(root, "Message") or ""
    except OssError:
        code, message = "InternalError", f"status {response.status} from another region"
    if code not in ERROR_TABLE:
        raise OssError("InternalError", f"{code}: {message}")
    raise OssError(code, message)
