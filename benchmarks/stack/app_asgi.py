"""Raw ASGI app (no framework) served unchanged by uvicorn and granian.

Routes:
  GET  /o/<key>               metadata lookup (see common.LOOKUP) + read file + send bytes
  PUT  /o/<key>               temp file, fsync, rename, INSERT (see common.put_sync)
  GET  /big/chunks/<key>      stream file in 1 MiB http.response.body chunks (more_body)
  GET  /big/pathsend/<key>    http.response.pathsend if the server advertises it,
                              else falls back to chunks (X-Send-Mode tells which)
  *    /probe...              echo of the ASGI scope (path, raw_path, Host, extensions)
                              plus the state of the lifespan-started background task
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

_OCTET = b"application/octet-stream"


async def _lifespan(receive, send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            common.start_background("asgi-lifespan")
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await common.stop_background()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _simple(send, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", ctype)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _probe(scope, receive, send) -> None:
    while True:  # drain any request body
        msg = await receive()
        if not msg.get("more_body"):
            break
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    raw_path = scope.get("raw_path")
    out = {
        "path": scope.get("path"),
        "raw_path": raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path,
        "query_string": scope.get("query_string", b"").decode("latin-1"),
        "host_header": headers.get("host"),
        "scheme": scope.get("scheme"),
        "server": list(scope["server"]) if scope.get("server") else None,
        "root_path": scope.get("root_path"),
        "http_version": scope.get("http_version"),
        "extensions": sorted((scope.get("extensions") or {}).keys()),
        "scope_keys": sorted(scope.keys()),
        **common.bg_state(),
    }
    await _simple(send, 200, json.dumps(out).encode(), b"application/json")


async def _send_chunks(send, size: int, etag: str, path: str, mode: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(size).encode()),
                (b"etag", etag.encode()),
                (b"content-type", _OCTET),
                (b"x-send-mode", mode),
            ],
        }
    )
    with open(path, "rb") as f:
        remaining = size
        while remaining > 0:
            chunk = f.read(min(common.CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if remaining > 0:  # truncated file: still terminate the response
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def app(scope, receive, send) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        await _lifespan(receive, send)
        return
    if kind != "http":
        return
    path = scope["path"]
    method = scope["method"]
    if path.startswith("/o/"):
        key = path[3:]
        if method == "GET":
            row = await common.lookup(key)
            if row is None:
                await _simple(send, 404, b"NoSuchKey")
                return
            size, etag, fpath = row
            data = common.read_file(fpath)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-length", str(size).encode()),
                        (b"etag", etag.encode()),
                        (b"content-type", _OCTET),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": data})
            return
        if method == "PUT":
            parts = []
            while True:
                msg = await receive()
                parts.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    break
            etag = await common.put(key, b"".join(parts))
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"0"), (b"etag", etag.encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await _simple(send, 405, b"MethodNotAllowed")
        return
    if path.startswith("/big/"):
        _, _, mode, key = path.split("/", 3)
        row = common.lookup_sync(key)
        if row is None:
            await _simple(send, 404, b"NoSuchKey")
            return
        size, etag, fpath = row
        if mode == "pathsend" and "http.response.pathsend" in (scope.get("extensions") or {}):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-length", str(size).encode()),
                        (b"etag", etag.encode()),
                        (b"content-type", _OCTET),
                        (b"x-send-mode", b"pathsend"),
                    ],
                }
            )
            await send({"type": "http.response.pathsend", "path": fpath})
            return
        await _send_chunks(send, size, etag, fpath, b"chunks" if mode == "chunks" else b"chunks-fallback")
        return
    if path.startswith("/probe"):
        await _probe(scope, receive, send)
        return
    await _simple(send, 404, b"NotFound")
