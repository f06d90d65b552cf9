"""Instructions per request of one Ferry region process, counted by callgrind (issue #8).

Throughput on this shared 2-core machine moves by 30 % with the other sessions' load; the number
of instructions the server executes per request does not. This runs ``python -m ferry serve``
under ``valgrind --tool=callgrind`` with instrumentation off, fills a bucket, warms up, switches
collection on (``callgrind_control -i on``), sends a fixed number of requests over one keep-alive
connection (V1 presigned URLs, as serve.py), dumps, and divides. User-space instructions only
(the kernel's share of a send or an fsync is not counted): use it to compare two trees, and
serve.py for the figures.

    apt-get install -y valgrind
    .venv/bin/python benchmarks/instructions.py --requests 2000            # GET and PUT 4 KiB
    .venv/bin/python benchmarks/instructions.py --workloads get4k --out /tmp/i.json

Writes benchmarks/results/instructions.json (and prints a line per workload).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_targets import REGION_A, FerryTarget, ferry_config, wait_listening

HERE = Path(__file__).resolve().parent
BUCKET = "bench"
N_OBJECTS = 200
SIZE = 4096


class CallgrindFerry(FerryTarget):
    """The Ferry region process under callgrind, instrumenting nothing until told to."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, None)
        self.outfile = root / "callgrind.out"

    def _serve(self, region: str) -> list[str]:
        return [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={self.outfile}",
            *super()._serve(region),
        ]  # fmt: skip

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ferry_config(self.root, self.ports)
        self.port = self.ports[REGION_A]
        proc = self._spawn(self._serve(REGION_A), f"{REGION_A}.log", self.env())
        wait_listening(self.port, timeout=300, proc=proc)


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=120)


def send_all(port: int, requests: list[tuple[str, str, bytes | None]]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for method, path, body in requests:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
    conn.close()


def total_instructions(outfile: Path) -> int:
    counted = 0
    for dump in outfile.parent.glob(outfile.name + "*"):
        for line in dump.read_text(errors="replace").splitlines():
            match = re.match(r"(?:summary|totals): (\d+)", line)
            if match:
                counted += int(match.group(1))
                break
    return counted


def measure(root: Path, workload: str, n: int) -> dict[str, float]:
    target = CallgrindFerry(root)
    target.start()
    try:
        target.create_bucket(BUCKET)
        body = os.urandom(SIZE)
        for i in range(N_OBJECTS):
            target.put(BUCKET, f"obj/{i:05d}", body)
        gets = [("GET", target.presign("GET", BUCKET, f"obj/{i % N_OBJECTS:05d}"), None) for i in range(n)]
        send_all(target.port, gets[: min(n, 300)])  # warm caches and code paths
        if workload == "get4k":
            batch = gets
        else:
            batch = [("PUT", target.presign("PUT", BUCKET, f"put/{i:06d}"), body) for i in range(n)]
        pid = target.main_pid()
        for old in root.glob("callgrind.out*"):
            old.unlink()
        control(pid, "-i", "on")
        started = time.monotonic()
        send_all(target.port, batch)
        elapsed = time.monotonic() - started
        control(pid, "-d")
        control(pid, "-i", "off")
        time.sleep(1.0)
        counted = total_instructions(target.outfile)
    finally:
        target.stop()
    return {"requests": n, "instructions": counted, "per_request": counted / n, "seconds": elapsed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="requests counted per workload")
    ap.add_argument("--workloads", default="get4k,put4k")
    ap.add_argument("--out", default=str(HERE / "results" / "instructions.json"))
    ap.add_argument("--label", default="", help="a note kept with the figures (e.g. the commit)")
    args = ap.parse_args(argv)

    results: dict[str, dict[str, float]] = {}
    for workload in args.workloads.split(","):
        with tempfile.TemporaryDirectory(prefix="ferry-instr-") as tmp:
            figures = measure(Path(tmp), workload, args.requests)
        results[workload] = figures
        print(
            f"{workload}: {figures['per_request']:,.0f} instructions per request ({args.requests} requests)"
        )
    Path(args.out).write_text(json.dumps({"label": args.label, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
