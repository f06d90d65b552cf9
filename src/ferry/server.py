"""Running region processes: one region under uvicorn, or every region of a config."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import uvicorn

from ferry.config import FerryConfig
from ferry.credentials import load_iam_master_key, load_root_account, load_service_key
from ferry.observability.logs import configure_logging
from ferry.protocol.app import FerryApp
from ferry.protocol.http_protocol import FerryHttpProtocol
from ferry.region import RegionRuntime
from ferry.storage.interfaces import AccessKey

log = logging.getLogger("ferry")


def build_app(config: FerryConfig, region: str, *, access_log: bool = False) -> FerryApp:
    # The root and service keys come from their files (see credentials.py); RAM users' keys
    # from the IAM tables, sealed.  No secret is written to the database in plain text.
    return FerryApp(RegionRuntime.build(config, region), access_log=access_log)


def serve_region(
    config: FerryConfig, region: str, log_level: str = "warning", *, access_log: bool = False
) -> None:
    """Serve one region in this process until SIGINT/SIGTERM; logs are JSON lines on stderr."""
    configure_logging(log_level, access_log=access_log)
    app = build_app(config, region, access_log=access_log)
    region_config = config.region(region)
    uv_config = uvicorn.Config(
        app,
        host=region_config.listen_host,
        port=region_config.listen_port,
        loop="uvloop",
        http=FerryHttpProtocol,  # uvicorn's httptools protocol, one write per small response
        ws="none",
        lifespan="on",
        log_config=None,  # configure_logging() set up every logger already
        log_level=log_level,
        access_log=False,  # ours (FerryApp's) carries the request ID and the API
        server_header=False,
        date_header=False,
        # The client address is the peer's: a loopback client must not choose its acs:SourceIp.
        proxy_headers=False,
        timeout_keep_alive=30,
    )
    uvicorn.Server(uv_config).run()


def print_root_key(key: AccessKey, generated: bool, data_dir: Path) -> None:
    if generated:
        print(
            "Generated the root account's access key (shown once; kept in "
            f"{data_dir / 'root-account.json'} with mode 0600):"
        )
        print(f"  OSS_ACCESS_KEY_ID={key.access_key_id}")
        print(f"  OSS_ACCESS_KEY_SECRET={key.secret}")
    else:
        print(f"Root account access key id: {key.access_key_id}")


def run_all(
    config: FerryConfig, config_path: Path | None, log_level: str, *, access_log: bool = False
) -> int:
    """Start one process per region and keep them until Ctrl-C; returns an exit code."""
    root = load_root_account(config.data_dir)
    load_service_key(config.data_dir)  # shared by the regions: make it before they start
    load_iam_master_key(config.data_dir)  # likewise
    print_root_key(root.key, root.generated, config.data_dir)
    children: dict[str, subprocess.Popen[bytes]] = {}
    for region in config.regions:
        cmd = [
            sys.executable,
            "-m",
            "ferry",
            "serve",
            "--region",
            region.name,
            "--data-dir",
            str(config.data_dir),
            "--log-level",
            log_level,
        ]
        if access_log:
            cmd.append("--access-log")
        if config_path is not None:
            cmd += ["--config", str(config_path)]
        children[region.name] = subprocess.Popen(cmd, env=os.environ.copy())
        print(f"{region.name}: {region.endpoint} (pid {children[region.name].pid})")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the others", file=sys.stderr)
                stopping, code = True, 1
                break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    print("Ferry stopped.")
    return code
