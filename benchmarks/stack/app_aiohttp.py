"""The same GET path as an aiohttp app (reference only).

usage: python app_aiohttp.py --port P --mode bytes|file
  bytes: web.Response(body=<file bytes>)      file: web.FileResponse(path) (sendfile)
"""

from __future__ import annotations

import argparse
import os
import sys

import uvloop
from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common

MODE = "bytes"


async def get_obj(request: web.Request) -> web.StreamResponse:
    row = await common.lookup(request.match_info["key"])
    if row is None:
        return web.Response(status=404, text="NoSuchKey")
    _size, etag, fpath = row
    if MODE == "file":
        return web.FileResponse(fpath, headers={"Content-Type": "application/octet-stream"})
    return web.Response(
        body=common.read_file(fpath), headers={"ETag": etag, "Content-Type": "application/octet-stream"}
    )


async def get_big(request: web.Request) -> web.StreamResponse:
    row = common.lookup_sync(request.match_info["key"])
    if row is None:
        return web.Response(status=404, text="NoSuchKey")
    return web.FileResponse(row[2], headers={"Content-Type": "application/octet-stream"})


async def probe(request: web.Request) -> web.Response:
    await request.read()
    out = {
        "path": request.path,
        "raw_path": request.raw_path,
        "query_string": request.query_string,
        "host_header": request.headers.get("Host"),
        "aiohttp_host": request.host,
        "url": str(request.url),
        "http_version": "{}.{}".format(*request.version),
        "extensions": [],
        **common.bg_state(),
    }
    return web.json_response(out)


async def _on_startup(app: web.Application) -> None:
    common.start_background("aiohttp-on_startup")


async def _on_cleanup(app: web.Application) -> None:
    await common.stop_background()


def main() -> None:
    global MODE
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["bytes", "file"], default="bytes")
    ns = ap.parse_args()
    MODE = ns.mode
    app = web.Application()
    app.router.add_get("/o/{key:.+}", get_obj)
    app.router.add_get("/big/{mode}/{key}", get_big)
    app.router.add_route("*", "/probe{tail:.*}", probe)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    web.run_app(app, host=ns.host, port=ns.port, access_log=None, print=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
