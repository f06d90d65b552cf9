"""Structured logs of a region process: JSON lines, the request ID on each, the access log on demand."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.harness import REGIONS, FerryCluster, unique_bucket, wait_listening


def test_access_log_lines_are_json_with_the_request_id(tmp_path: Path) -> None:
    cluster = FerryCluster.create(tmp_path)
    region = cluster.region(REGIONS[0])
    log_path = tmp_path / "region.log"
    command = [sys.executable, "-m", "ferry", "serve", "--region", region.name]
    command += ["--config", str(cluster.config_path), "--log-level", "info", "--access-log"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            env=cluster.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_listening(region.port)
        bucket = cluster.oss2_bucket(unique_bucket("logs"))
        created = bucket.create_bucket()
        put = bucket.put_object("k", b"v")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and put.request_id not in log_path.read_text():
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=15)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "request_id", "message"} <= set(x) for x in lines)
    access = {x["request_id"]: x for x in lines if x["logger"] == "ferry.access"}
    assert access[put.request_id]["api"] == "PutObject" and access[put.request_id]["status"] == 200
    assert access[created.request_id]["api"] == "PutBucket"
    assert any(x["logger"].startswith("uvicorn") for x in lines)  # the server's own lines are JSON too


def test_no_line_per_request_at_the_default_level(cluster: FerryCluster) -> None:
    bucket = cluster.oss2_bucket(unique_bucket("quiet"))
    bucket.create_bucket()
    put = bucket.put_object("k", b"v")
    log = (cluster.root / "ferry-up.log").read_text()
    assert put.request_id not in log
    assert '"ferry.access"' not in log
