"""Start real Ferry processes on loopback and build SDK clients for them.

A small vocabulary for scenario tests: ``FerryCluster.start()``,
``cluster.stop_region(name)``, ``cluster.start_region(name)``, and clients
for both Python SDKs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import oss2

ACCESS_KEY_ID = "LTAIferrytestkey0001"
ACCESS_KEY_SECRET = "ferry-test-secret-0001"
REGIONS = ("oss-cn-hangzhou", "oss-cn-beijing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def unique_bucket(prefix: str = "ferry") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class RegionHandle:
    name: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def short(self) -> str:
        """The region id the SDKs take (``cn-hangzhou``)."""
        return self.name.removeprefix("oss-")


@dataclass
class FerryCluster:
    root: Path
    regions: dict[str, RegionHandle]
    env: dict[str, str]
    config_path: Path
    process: subprocess.Popen[bytes] | None = None
    singles: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, extra_config: str = "") -> FerryCluster:
        regions = {name: RegionHandle(name, free_port()) for name in REGIONS}
        lines = [f'data_dir = "{root / "data"}"', ""]
        for r in regions.values():
            lines += [
                "[[region]]",
                f'name = "{r.name}"',
                f'listen = "127.0.0.1:{r.port}"',
                f'endpoint = "{r.endpoint}"',
                "rtc = true",
                "",
            ]
        a, b = REGIONS
        for src, dst in ((a, b), (b, a)):
            lines += [
                "[[route]]",
                f'from = "{src}"',
                f'to = "{dst}"',
                'transfer_types = ["internal", "oss_acc"]',
                "",
            ]
        config_path = root / "ferry.toml"
        config_path.write_text("\n".join(lines) + extra_config)
        env = dict(os.environ)
        env.update(OSS_ACCESS_KEY_ID=ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET)
        env.pop("HTTP_PROXY", None)
        env.pop("http_proxy", None)
        return cls(root=root, regions=regions, env=env, config_path=config_path)

    def start(self) -> FerryCluster:
        """``ferry up`` with this config: one process per region."""
        with open(self.root / "ferry-up.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ferry", "up", "--config", str(self.config_path)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for r in self.regions.values():
            wait_listening(r.port)
        return self

    def start_region(self, name: str, *extra_args: str) -> None:
        """Run one region alone (``ferry serve``), e.g. after stopping it; its output goes to
        ``<root>/<name>.log``."""
        command = [sys.executable, "-m", "ferry", "serve", "--region", name]
        command += ["--config", str(self.config_path)]
        with open(self.root / f"{name}.log", "ab") as log:
            self.singles[name] = subprocess.Popen(
                [*command, *extra_args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_listening(self.regions[name].port)

    def start_each(self) -> FerryCluster:
        """Every region as its own ``ferry serve`` process, so one can be killed alone."""
        for name in self.regions:
            self.start_region(name)
        return self

    def kill_region(self, name: str) -> None:
        """kill -9 one region started with :meth:`start_region` and wait until it is gone."""
        process = self.singles.pop(name)
        process.kill()
        process.wait()

    def stop(self) -> None:
        procs = ([self.process] if self.process else []) + list(self.singles.values())
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # --- clients ------------------------------------------------------------

    def region(self, name: str = REGIONS[0]) -> RegionHandle:
        return self.regions[name]

    def oss2_bucket(self, bucket: str, *, v4: bool = False, region: str = REGIONS[0]) -> oss2.Bucket:
        r = self.regions[region]
        if v4:
            return oss2.Bucket(
                oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), r.endpoint, bucket, region=r.short
            )
        return oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), r.endpoint, bucket)

    def oss2_service(self, *, v4: bool = False, region: str = REGIONS[0]) -> oss2.Service:
        r = self.regions[region]
        if v4:
            return oss2.Service(oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), r.endpoint, region=r.short)
        return oss2.Service(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), r.endpoint)

    def v2_client(self, *, region: str = REGIONS[0], v1: bool = False):  # type: ignore[no-untyped-def]
        import alibabacloud_oss_v2 as oss

        r = self.regions[region]
        cfg = oss.config.load_default()
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
        cfg.region = r.short
        cfg.endpoint = r.endpoint
        if v1:
            cfg.signature_version = "v1"
        return oss.Client(cfg)

    def data_dir(self, region: str) -> Path:
        return self.root / "data" / region
