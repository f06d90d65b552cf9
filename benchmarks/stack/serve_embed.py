"""Serve app_asgi.app from *our own* asyncio program, next to a background task.

This is the shape Ferry needs: one process, one event loop, the HTTP server as one
task and replication workers as other tasks.

usage: python serve_embed.py --server granian|uvicorn --port P
  granian: granian.server.embed.Server(...).serve()  (interface asginl: we own startup)
  uvicorn: uvicorn.Server(uvicorn.Config(...)).serve()
SIGTERM/SIGINT stop the server gracefully, then the background task is cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import uvloop

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common
from app_asgi import app


async def main(server_kind: str, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    common.start_background(f"{server_kind}-embed-main")  # our own "replication worker"
    if server_kind == "granian":
        from granian.constants import HTTPModes, Interfaces
        from granian.log import LogLevels
        from granian.server.embed import Server

        server = Server(
            app,
            address=host,
            port=port,
            interface=Interfaces.ASGINL,
            http=HTTPModes.http1,
            log_level=LogLevels.warning,
        )
        stop = server.stop
    else:
        import uvicorn

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="none",
            http="httptools",
            lifespan="off",
            access_log=False,
            log_level="warning",
        )
        server = uvicorn.Server(config)

        def stop() -> None:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await server.serve()
    await common.stop_background()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", choices=["granian", "uvicorn"], required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ns = ap.parse_args()
    uvloop.run(main(ns.server, ns.host, ns.port))
