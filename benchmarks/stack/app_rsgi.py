"""The same GET path written against granian's RSGI interface (reference only)."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

_OCTET = "application/octet-stream"


async def app(scope, proto) -> None:
    if scope.proto != "http":
        return
    path = scope.path
    if path.startswith("/o/") and scope.method == "GET":
        row = await common.lookup(path[3:])
        if row is None:
            proto.response_str(404, [("content-type", "text/plain")], "NoSuchKey")
            return
        size, etag, fpath = row
        data = common.read_file(fpath)
        proto.response_bytes(
            200, [("content-length", str(size)), ("etag", etag), ("content-type", _OCTET)], data
        )
        return
    if path.startswith("/big/"):
        row = common.lookup_sync(path.split("/", 3)[3])
        if row is None:
            proto.response_str(404, [("content-type", "text/plain")], "NoSuchKey")
            return
        size, etag, fpath = row
        proto.response_file(
            200, [("content-length", str(size)), ("etag", etag), ("content-type", _OCTET)], fpath
        )
        return
    if path.startswith("/probe"):
        await proto()  # drain body
        out = {
            "path": scope.path,
            "raw_path": None,  # RSGI has no raw path field
            "query_string": scope.query_string,
            "host_header": scope.headers.get("host"),
            "authority": scope.authority,
            "scheme": scope.scheme,
            "server": scope.server,
            "http_version": scope.http_version,
            "extensions": [],
            **common.bg_state(),
        }
        proto.response_str(200, [("content-type", "application/json")], json.dumps(out))
        return
    proto.response_str(404, [("content-type", "text/plain")], "NotFound")
