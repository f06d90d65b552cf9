#!/usr/bin/env python3
"""Choose Ferry's HTTP serving stack by measurement.

Runs the SAME raw ASGI app (benchmarks/stack/app_asgi.py) under uvicorn and granian,
plus granian-RSGI and aiohttp references, against a data dir that mimics Ferry's GET
path (SQLite WAL metadata row, then the object's bytes from its own file), and drives
each server with wrk. Also probes protocol behaviour (absolute-form targets, %2F in the
raw path, lifespan-hosted background tasks, embedding granian in our own loop).

    source /work/venv/bin/activate
    python benchmarks/stack/compare.py            # full run, ~9-10 minutes
    python benchmarks/stack/compare.py --quick    # 1 run x 2 s per point, smoke test

Writes benchmarks/results/stack_compare.json and benchmarks/results/stack_compare.md.
Every server listens on 127.0.0.1 only; every wrk run is bounded by -d; servers are
stopped by the PID this script got from Popen.

By default the server process tree is pinned to CPU 0 and wrk to CPU 1 (the machine
has 2 cores), so each number is "what one core of server buys" and the load
generator never steals the server's CPU. --no-pin disables that.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
NOTES = HERE / "notes.md"
LUA = HERE / "bench.lua"
PY = sys.executable
GRANIAN = str(Path(PY).parent / "granian")
HOST = "127.0.0.1"
MiB = 1024 * 1024

N_OBJECTS = 1000
OBJ_SIZE = 4096
BIG_SIZE = 64 * MiB
BIG_KEY = "big64"

PIN = True  # set from argv


# --------------------------------------------------------------------------- data
def prepare_data(d: Path) -> None:
    """1,000 x 4 KiB objects as files + one 64 MiB object + SQLite (WAL) key -> row."""
    (d / "objects" / "small").mkdir(parents=True)
    for i in range(256):
        (d / "objects" / "put" / f"{i:02x}").mkdir(parents=True)
    (d / "tmp").mkdir()
    db = sqlite3.connect(d / "meta.sqlite")
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.execute(
        "CREATE TABLE objects (key TEXT PRIMARY KEY, size INTEGER NOT NULL,"
        " etag TEXT NOT NULL, path TEXT NOT NULL)"
    )
    rows = []
    for i in range(N_OBJECTS):
        key = f"k{i:05d}"
        data = os.urandom(OBJ_SIZE)
        p = d / "objects" / "small" / key
        p.write_bytes(data)
        rows.append((key, OBJ_SIZE, f'"{hashlib.md5(data).hexdigest()}"', str(p)))
    big = d / "objects" / BIG_KEY
    h = hashlib.md5()
    with open(big, "wb") as f:
        for _ in range(BIG_SIZE // MiB):
            chunk = os.urandom(MiB)
            h.update(chunk)
            f.write(chunk)
    rows.append((BIG_KEY, BIG_SIZE, f'"{h.hexdigest()}"', str(big)))
    db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()


# ------------------------------------------------------------------ raw HTTP client
def raw_http(port: int, payload: bytes, timeout: float = 5.0, head_only: bool = False) -> dict[str, Any]:
    """Send bytes verbatim; return status line, headers and body (for probes)."""
    buf = b""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(payload)
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, _, body = buf.partition(b"\r\n\r\n")
                if head_only:
                    break
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = None
    if lines and lines[0].startswith("HTTP/"):
        with contextlib.suppress(IndexError, ValueError):
            status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return {"status": status, "status_line": lines[0] if lines else "", "headers": headers, "body": body}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _pin(cpu: int):
    if not PIN:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


# ------------------------------------------------------------------------ servers
STACKS: dict[str, dict[str, Any]] = {
    "uvicorn": {"desc": "uvicorn 1 worker, --loop uvloop --http httptools", "asgi": True},
    "granian-asgi": {"desc": "granian --interface asgi, 1 worker, --loop uvloop, --http 1", "asgi": True},
    "granian-rsgi": {"desc": "granian --interface rsgi, 1 worker, --loop uvloop (reference)", "asgi": False},
    "aiohttp-bytes": {"desc": "aiohttp web.Response(body=bytes), uvloop (reference)", "asgi": False},
    "aiohttp-file": {"desc": "aiohttp web.FileResponse(path), uvloop (reference)", "asgi": False},
    "granian-embed": {"desc": "granian.server.embed.Server in our own uvloop + bg task", "asgi": True},
    "uvicorn-embed": {"desc": "uvicorn.Server(config).serve() in our own uvloop + bg task", "asgi": True},
}


def server_argv(stack: str, port: int) -> list[str]:
    p = str(port)
    gr = [
        GRANIAN,
        "--host",
        HOST,
        "--port",
        p,
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "1",
        "--log-level",
        "warning",
    ]
    if stack == "uvicorn":
        return [
            PY,
            "-m",
            "uvicorn",
            "app_asgi:app",
            "--host",
            HOST,
            "--port",
            p,
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--workers",
            "1",
            "--lifespan",
            "on",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    if stack == "granian-asgi":
        return [*gr, "--interface", "asgi", "app_asgi:app"]
    if stack == "granian-rsgi":
        return [*gr, "--interface", "rsgi", "app_rsgi:app"]
    if stack in ("aiohttp-bytes", "aiohttp-file"):
        return [PY, "app_aiohttp.py", "--host", HOST, "--port", p, "--mode", stack.split("-")[1]]
    if stack in ("granian-embed", "uvicorn-embed"):
        return [PY, "serve_embed.py", "--server", stack.split("-")[0], "--host", HOST, "--port", p]
    raise ValueError(stack)


@dataclass
class Server:
    stack: str
    data: Path
    lookup: str = "direct"
    fsync: bool = True
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    known_pids: set[int] = field(default_factory=set)

    @property
    def tag(self) -> str:
        return f"{self.stack}-{self.lookup}-fs{int(self.fsync)}"

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            FERRY_BENCH_DATA=str(self.data),
            FERRY_BENCH_LOOKUP=self.lookup,
            FERRY_BENCH_FSYNC="1" if self.fsync else "0",
            FERRY_BENCH_TAG=self.tag,
            PYTHONUNBUFFERED="1",
        )
        self.log_path = self.data / f"server-{self.tag}-{self.port}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                server_argv(self.stack, self.port),
                cwd=HERE,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_pin(0),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.tag} exited rc={self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = raw_http(self.port, b"GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2.0)
                if r["status"] == 200:
                    self.known_pids = {p.pid for p in self.tree()}
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.tag} not ready in {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        total = 0
        for p in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total

    def cpu(self) -> float:
        total = 0.0
        for p in self.tree():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM our own Popen child; SIGKILL it (and children we saw it spawn) if stuck."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.known_pids |= {p.pid for p in self.tree()}
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in self.known_pids - {self.proc.pid}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(5)
            return None


# ----------------------------------------------------------------------- load gen
def run_wrk(port: int, conc: int, duration: float, lua_args: list[str]) -> dict[str, Any]:
    cmd = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(conc),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}/",
        "--",
        *lua_args,
    ]
    ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, preexec_fn=_pin(1))
    ru1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            w = json.loads(line[len("WRKJSON ") :])
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            w["client_cpu_pct"] = 100 * cpu / (t1 - t0)
            return w
    raise RuntimeError(f"wrk produced no summary: rc={out.returncode}\n{out.stdout}\n{out.stderr}")


class RssSampler(threading.Thread):
    def __init__(self, server: Server, period: float = 0.2):
        super().__init__(daemon=True)
        self.server, self.period, self.peak = server, period, 0
        self._stop_ev = threading.Event()

    def run(self) -> None:
        while not self._stop_ev.is_set():
            self.peak = max(self.peak, self.server.rss())
            self._stop_ev.wait(self.period)

    def finish(self) -> int:
        self._stop_ev.set()
        self.join()
        return max(self.peak, self.server.rss())


def warmup(server: Server, conc: int, lua_args: list[str], secs: float) -> None:
    warm = list(lua_args)
    if warm[0] == "put":
        warm[1] += "-warm"
    run_wrk(server.port, conc, secs, warm)


def _busy_cpu_s() -> float:
    """Machine-wide non-idle CPU seconds so far (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def quiet_gate(max_wait: float, busy_limit: float = 0.25, sample: float = 0.1) -> float:
    """Wait (at most max_wait s) until the machine is quiet: < busy_limit cores busy.

    Between runs our own servers are idle, so anything busy is foreign load (this machine is
    shared with other sessions' test suites)."""
    t0 = time.monotonic()
    while True:
        b0 = _busy_cpu_s()
        time.sleep(sample)
        if (_busy_cpu_s() - b0) / sample < busy_limit or time.monotonic() - t0 >= max_wait:
            return time.monotonic() - t0


def one_run(
    server: Server, conc: int, lua_args: list[str], r: int, secs: float, retry: bool = False
) -> dict[str, Any]:
    args = list(lua_args)
    if args[0] == "put":
        args[1] = f"{lua_args[1]}-r{r}{'b' if retry else ''}"
        os.sync()  # start every PUT run without the previous run's dirty pages
    sampler = RssSampler(server)
    sampler.start()
    b0, c0, t0 = _busy_cpu_s(), server.cpu(), time.monotonic()
    w = run_wrk(server.port, conc, secs, args)
    b1, c1, t1 = _busy_cpu_s(), server.cpu(), time.monotonic()
    peak = sampler.finish()
    dur = w["duration_us"] / 1e6
    run = {
        "round": r,
        "requests": w["requests"],
        "rps": w["requests"] / dur,
        "mibps": w["bytes"] / dur / MiB,
        "p50_ms": w["lat_p50_us"] / 1000,
        "p90_ms": w["lat_p90_us"] / 1000,
        "p99_ms": w["lat_p99_us"] / 1000,
        "max_ms": w["lat_max_us"] / 1000,
        "errors": {k: v for k, v in w.items() if k.startswith("err_") and v},
        "server_cpu_pct": 100 * (c1 - c0) / (t1 - t0),
        "client_cpu_pct": w["client_cpu_pct"],
        # everything else busy on the machine: loopback softirq, this script, idle servers' timers,
        # and any foreign load (a high value flags a disturbed run)
        "other_cpu_pct": 100 * ((b1 - b0) - (c1 - c0)) / (t1 - t0) - w["client_cpu_pct"],
        "cpu_us_per_req": (c1 - c0) / max(w["requests"], 1) * 1e6,
        "rss_peak_mib": peak / MiB,
    }
    if args[0] == "put":
        run["rows_inserted"] = count_rows(server.data, args[1][len("/o/") :])
    return run


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    med = lambda k: statistics.median(x[k] for x in runs)  # noqa: E731
    return {
        "rps": med("rps"),
        "rps_min": min(x["rps"] for x in runs),
        "rps_max": max(x["rps"] for x in runs),
        "mibps": med("mibps"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "server_cpu_pct": med("server_cpu_pct"),
        "client_cpu_pct": med("client_cpu_pct"),
        "other_cpu_pct": med("other_cpu_pct"),
        "other_cpu_pct_max": max(x["other_cpu_pct"] for x in runs),
        "cpu_us_per_req": med("cpu_us_per_req"),
        "rss_peak_mib": max(x["rss_peak_mib"] for x in runs),
        "errors": sum(sum(x["errors"].values()) for x in runs),
        "runs": runs,
    }


def count_rows(data: Path, key_prefix: str) -> int:
    db = sqlite3.connect(data / "meta.sqlite", timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM objects WHERE key GLOB ?", (key_prefix + "-*",)).fetchone()[0]
    finally:
        db.close()


# ------------------------------------------------------------------------ probes
PROBES: list[tuple[str, bytes]] = [
    (
        "origin-form %2F",
        b"GET /probe/bkt/a%2Fb%20c?x=1 HTTP/1.1\r\nHost: bkt.example.com\r\nConnection: close\r\n\r\n",
    ),
    (
        "absolute-form",
        b"GET http://bkt.example.com/probe/a%2Fb?x=1 HTTP/1.1\r\nHost: bkt.example.com\r\n"
        b"Connection: close\r\n\r\n",
    ),
    (
        "absolute-form, other Host",
        b"GET http://bkt.example.com/probe/k HTTP/1.1\r\nHost: other.example.org\r\n"
        b"Connection: close\r\n\r\n",
    ),
]


def probe(server: Server) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, payload in PROBES:
        try:
            r = raw_http(server.port, payload)
        except OSError as e:
            out[name] = {"error": repr(e)}
            continue
        entry: dict[str, Any] = {"status": r["status"], "status_line": r["status_line"]}
        try:
            entry["echo"] = json.loads(r["body"])
        except ValueError:
            entry["body"] = r["body"][:200].decode("latin-1")
        out[name] = entry
    return out


def bg_probe(server: Server) -> dict[str, Any]:
    r = raw_http(server.port, b"GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    e = json.loads(r["body"])
    return {k: v for k, v in e.items() if k.startswith("bg_") or k == "extensions"}


def send_mode(server: Server, mode: str) -> dict[str, Any]:
    r = raw_http(
        server.port,
        f"GET /big/{mode}/{BIG_KEY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        head_only=True,
    )
    return {
        "status": r["status"],
        "x-send-mode": r["headers"].get("x-send-mode"),
        "content-length": r["headers"].get("content-length"),
        "transfer-encoding": r["headers"].get("transfer-encoding"),
    }


# ------------------------------------------------------------------------ driver
def versions() -> dict[str, str]:
    v = {"python": platform.python_version(), "kernel": platform.release(), "cpus": str(os.cpu_count())}
    for pkg in ("granian", "uvicorn", "uvloop", "httptools", "aiohttp", "psutil"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = "missing"
    w = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    v["wrk"] = (w.stdout + w.stderr).splitlines()[0] if (w.stdout + w.stderr) else "?"
    return v


@dataclass
class Point:
    server: Server
    workload: str
    variant: str
    conc: int
    lua_args: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)
    disturbed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.server.stack}/{self.workload}/{self.variant}/c{self.conc}"


def main() -> int:
    global PIN
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per measured wrk run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of wrk warmup per point")
    ap.add_argument("--conc", default="16,64", help="GET/PUT concurrencies")
    ap.add_argument("--big-conc", type=int, default=4, help="concurrency for the 64 MiB GET")
    ap.add_argument("--no-pin", action="store_true", help="do not pin server->CPU0, wrk->CPU1")
    ap.add_argument("--only", default="", help="regex: only measure points whose name matches")
    ap.add_argument("--quick", action="store_true", help="1 run x 2 s, 1 s warmup (smoke test)")
    ap.add_argument("--data-dir", default="", help="scratch dir (default: a new temp dir, removed after)")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "stack_compare"), help="output path without extension")
    ap.add_argument(
        "--quiet-wait", type=float, default=5.0, help="max s to wait for an idle machine before each run"
    )
    ap.add_argument(
        "--disturbed",
        type=float,
        default=45.0,
        help="a run whose non-server, non-wrk CPU exceeds this %% of a core is re-measured once",
    )
    ap.add_argument(
        "--extra-budget",
        type=float,
        default=45.0,
        help="max extra seconds for waiting on an idle machine and re-measuring, in total",
    )
    ap.add_argument("--render", metavar="JSON", help="only re-render the .md from an existing results JSON")
    cfg = ap.parse_args()
    if cfg.render:
        res = json.loads(Path(cfg.render).read_text())
        md_path = Path(cfg.render).with_suffix(".md")
        md_path.write_text(render_md(res))
        print(md_path.read_text())
        return 0
    if cfg.quick:
        cfg.runs, cfg.duration, cfg.warmup = 1, 2.0, 1.0
    PIN = not cfg.no_pin and (os.cpu_count() or 1) >= 2
    concs = [int(c) for c in cfg.conc.split(",")]
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    only = re.compile(cfg.only) if cfg.only else None

    t_start = time.monotonic()
    stamp = lambda: f"[{time.monotonic() - t_start:5.0f}s]"  # noqa: E731
    data = Path(cfg.data_dir) if cfg.data_dir else Path(tempfile.mkdtemp(prefix="ferry-stack-"))
    if cfg.data_dir:
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
    print(f"data dir: {data}", flush=True)
    prepare_data(data)

    result: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "versions": versions(),
            "pinned": PIN,
            "pinning": "server process tree -> CPU 0, wrk -> CPU 1" if PIN else "none",
            "runs": cfg.runs,
            "duration_s": cfg.duration,
            "warmup_s": cfg.warmup,
            "wrk_threads": 2,
            "objects": N_OBJECTS,
            "object_size": OBJ_SIZE,
            "big_size": BIG_SIZE,
            "order": "rounds: each phase (GET 4KiB, GET 64MiB, PUT 4KiB) runs run #1 of every point, "
            "then run #2 of every point, ...; warmup only before run #1",
        },
        "stacks": {k: v["desc"] for k, v in STACKS.items()},
        "points": [],
        "probes": {},
        "lifespan": {},
        "embed": {},
        "send_modes": {},
    }
    running: list[Server] = []

    def start(stack: str, lookup: str = "direct", fsync: bool = True) -> Server:
        s = Server(stack, data, lookup, fsync)
        s.start()
        running.append(s)
        return s

    get_args = ["get", "/o/", str(N_OBJECTS)]
    phases: list[tuple[str, list[Point]]] = [("GET 4KiB", []), ("GET 64MiB", []), ("PUT 4KiB", [])]
    try:
        # ---- start every server up front (idle servers cost no CPU); runs are interleaved across
        # stacks so that the (large) drift of this shared VM's CPU speed hits all stacks alike.
        print(f"{stamp()} starting servers", flush=True)
        plan = [("uvicorn", lk) for lk in ("direct", "thread", "lru")]
        plan += [("granian-asgi", lk) for lk in ("direct", "thread", "lru")]
        plan += [
            ("granian-rsgi", "direct"),
            ("aiohttp-bytes", "direct"),
            ("aiohttp-file", "direct"),
            ("granian-embed", "direct"),
        ]
        direct: dict[str, Server] = {}
        for stack, lookup in plan:
            s = start(stack, lookup)
            if lookup == "direct":
                direct[stack] = s
            for c in concs:
                phases[0][1].append(Point(s, "GET 4KiB", lookup, c, get_args))
        for stack, modes in (
            ("uvicorn", ["chunks", "pathsend"]),
            ("granian-asgi", ["chunks", "pathsend"]),
            ("granian-rsgi", ["file"]),
            ("aiohttp-file", ["file"]),
        ):
            s = direct[stack]
            for mode in modes:
                sm = send_mode(s, mode)
                result["send_modes"][f"{stack}/{mode}"] = sm
                if sm["x-send-mode"] and sm["x-send-mode"] != mode:
                    print(
                        f"  {stack}/{mode}: server does not offer it (app fell back to "
                        f"{sm['x-send-mode']}); not measured",
                        flush=True,
                    )
                    continue
                phases[1][1].append(
                    Point(s, "GET 64MiB", mode, cfg.big_conc, ["path", f"/big/{mode}/{BIG_KEY}"])
                )
        for stack in ("uvicorn", "granian-asgi"):
            for fsync in (True, False):
                s = start(stack, "direct", fsync)
                for c in concs:
                    phases[2][1].append(
                        Point(
                            s,
                            "PUT 4KiB",
                            "fsync" if fsync else "no-fsync",
                            c,
                            ["put", f"/o/put-{stack}-fs{int(fsync)}-c{c}"],
                        )
                    )

        # ---- protocol probes, background-task state before load
        for stack in ("uvicorn", "granian-asgi", "granian-rsgi", "aiohttp-bytes", "aiohttp-file"):
            result["probes"][stack] = probe(direct[stack])
        for stack in ("uvicorn", "granian-asgi"):
            result["lifespan"][stack] = {"at_start": bg_probe(direct[stack])}
        emb_uv = start("uvicorn-embed", "direct")
        result["embed"]["uvicorn-embed"] = {"probe_t0": bg_probe(emb_uv)}
        result["embed"]["granian-embed"] = {"probe_t0": bg_probe(direct["granian-embed"])}
        time.sleep(1.0)
        result["embed"]["uvicorn-embed"]["probe_t1s"] = bg_probe(emb_uv)
        result["embed"]["granian-embed"]["probe_t1s"] = bg_probe(direct["granian-embed"])

        # ---- load, in interleaved rounds per phase
        for _, pts in phases:
            pts[:] = [p for p in pts if only is None or only.search(p.name)]
        planned = sum(len(pts) for _, pts in phases) * (cfg.runs * (cfg.duration + 0.2) + cfg.warmup + 0.2)
        budget_end = time.monotonic() + planned + cfg.extra_budget
        total_points = sum(len(pts) for _, pts in phases)
        total_runs, done_runs, done_warm = total_points * cfg.runs, 0, 0
        for phase, pts in phases:
            print(f"{stamp()} == {phase}: {len(pts)} points x {cfg.runs} runs", flush=True)
            for r in range(cfg.runs):
                for p in pts:
                    # planned seconds still to go, this run included
                    left = (total_runs - done_runs) * (cfg.duration + 0.2) + (total_points - done_warm) * (
                        cfg.warmup + 0.2
                    )
                    done_runs += 1
                    done_warm += r == 0
                    if r == 0 and cfg.warmup > 0:
                        warmup(p.server, p.conc, p.lua_args, cfg.warmup)
                    waited = quiet_gate(min(cfg.quiet_wait, max(0.0, budget_end - time.monotonic() - left)))
                    run = one_run(p.server, p.conc, p.lua_args, r, cfg.duration)
                    run["quiet_wait_s"] = round(waited, 2)
                    if (
                        run["other_cpu_pct"] > cfg.disturbed
                        and not phase.startswith("GET 64")  # loopback softirq is legitimately high there
                        and time.monotonic() + cfg.duration + left < budget_end
                    ):
                        # foreign load on this shared machine: keep the run on record, measure it again
                        print(
                            f"{stamp()} r{r} {p.name:40s} disturbed "
                            f"(other {run['other_cpu_pct']:.0f}%), re-measuring",
                            flush=True,
                        )
                        p.disturbed.append(run)
                        quiet_gate(min(cfg.quiet_wait, max(0.0, budget_end - time.monotonic() - left)))
                        run = one_run(p.server, p.conc, p.lua_args, r, cfg.duration, retry=True)
                    p.runs.append(run)
                    unit = (
                        f"{run['mibps']:8.1f} MiB/s"
                        if phase.startswith("GET 64")
                        else f"{run['rps']:8.0f} req/s"
                    )
                    print(
                        f"{stamp()} r{r} {p.name:40s} {unit}  p50 {run['p50_ms']:7.2f} ms  "
                        f"p99 {run['p99_ms']:7.2f} ms  cpu {run['server_cpu_pct']:5.1f}%  "
                        f"wrk {run['client_cpu_pct']:5.1f}%  other {run['other_cpu_pct']:5.1f}%  "
                        f"{run['cpu_us_per_req']:8.1f} us/req  "
                        f"rss {run['rss_peak_mib']:6.1f} MiB  err {sum(run['errors'].values())}",
                        flush=True,
                    )
            for p in pts:
                m = summarize(p.runs)
                m["disturbed_runs_replaced"] = p.disturbed
                m.update(stack=p.server.stack, workload=p.workload, variant=p.variant, conc=p.conc)
                result["points"].append(m)

        # ---- background-task state after load, then graceful stop
        for stack in ("uvicorn", "granian-asgi"):
            result["lifespan"][stack]["after_load"] = bg_probe(direct[stack])
        result["embed"]["granian-embed"]["probe_after_load"] = bg_probe(direct["granian-embed"])
        result["embed"]["uvicorn-embed"]["probe_after_load"] = bg_probe(emb_uv)
        print(f"{stamp()} stopping servers", flush=True)
        t_stop = time.monotonic()
        for s in list(running):
            rc = s.stop()
            running.remove(s)
            marker = data / f"shutdown_{s.tag}.json"
            info = {
                "exit_code": rc,
                "shutdown_marker": json.loads(marker.read_text()) if marker.exists() else None,
            }
            if s is direct.get(s.stack) and s.stack in result["lifespan"]:
                result["lifespan"][s.stack].update(info)
            elif s.stack in result["embed"]:
                result["embed"][s.stack].update(info, log_tail=s.log_tail(10))
        print(f"{stamp()} stopped in {time.monotonic() - t_stop:.1f}s", flush=True)
        result["meta"]["elapsed_s"] = round(time.monotonic() - t_start, 1)
        out = Path(cfg.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        md = render_md(result)
        out.with_suffix(".md").write_text(md)
        print()
        print(md)
        print(
            f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')} ({result['meta']['elapsed_s']} s)"
        )
    finally:
        for s in list(running):
            s.stop()
        if not cfg.keep_data:
            print(f"{stamp()} removing {data} (the PUT runs leave ~10^5 small files)", flush=True)
            shutil.rmtree(data, ignore_errors=True)
    print(f"{stamp()} done")
    return 0


# ------------------------------------------------------------------------ report
def _fmt(x: float, nd: int = 0) -> str:
    return f"{x:,.{nd}f}"


def results_table(points: list[dict[str, Any]]) -> str:
    rows = [
        "| stack | workload | variant | conc | median req/s | req/s min–max | median MiB/s | p50 ms | p99 ms "
        "| server CPU % | wrk CPU % | other CPU % (max) | CPU µs/req | per-core capacity "
        "| peak RSS MiB | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        big = p["workload"].startswith("GET 64")
        n_redo = len(p.get("disturbed_runs_replaced") or [])
        redo = f" {n_redo}×redo" if n_redo else ""
        per_core = 1e6 / p["cpu_us_per_req"] if p["cpu_us_per_req"] else 0.0
        capacity = f"{_fmt(per_core * BIG_SIZE / MiB, 0)} MiB/s" if big else f"{_fmt(per_core, 0)} req/s"
        rows.append(
            f"| {p['stack']} | {p['workload']} | {p['variant']} | {p['conc']} | "
            f"{_fmt(p['rps'], 1 if big else 0)} | "
            f"{_fmt(p['rps_min'], 1 if big else 0)}–{_fmt(p['rps_max'], 1 if big else 0)} | "
            f"{_fmt(p['mibps'], 1)} | {p['p50_ms']:.2f} | {p['p99_ms']:.2f} | {p['server_cpu_pct']:.0f} | "
            f"{p['client_cpu_pct']:.0f} | {p.get('other_cpu_pct', float('nan')):.0f} "
            f"({p.get('other_cpu_pct_max', float('nan')):.0f}){redo} | "
            f"{_fmt(p['cpu_us_per_req'], 0)} | {capacity} | {p['rss_peak_mib']:.1f} | {p['errors']} |"
        )
    return "\n".join(rows)


def lookup_table(points: list[dict[str, Any]]) -> str:
    by = {(p["stack"], p["variant"], p["conc"]): p for p in points if p["workload"] == "GET 4KiB"}
    rows = [
        "| stack | conc | direct CPU µs/req | to_thread CPU µs/req | LRU CPU µs/req | "
        "sqlite-in-loop cost (direct − LRU) | to_thread extra (thread − direct) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (stack, variant, conc), p in sorted(by.items()):
        if variant != "direct" or (stack, "lru", conc) not in by or (stack, "thread", conc) not in by:
            continue
        d, t, lr = (
            p["cpu_us_per_req"],
            by[(stack, "thread", conc)]["cpu_us_per_req"],
            by[(stack, "lru", conc)]["cpu_us_per_req"],
        )
        rows.append(
            f"| {stack} | {conc} | {d:.0f} | {t:.0f} | {lr:.0f} | {d - lr:+.0f} µs | {t - d:+.0f} µs |"
        )
    return "\n".join(rows)


def probe_table(probes: dict[str, Any]) -> str:
    rows = [
        "| stack | request | status | app sees path | raw_path | query | Host header | other |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for stack, res in probes.items():
        for name, e in res.items():
            echo = e.get("echo") or {}
            other = []
            for k in ("authority", "aiohttp_host", "url"):
                if echo.get(k) is not None:
                    other.append(f"{k}={echo[k]}")
            if not echo:
                other.append(
                    (e.get("body") or e.get("error") or "").replace("|", "/").replace("\n", " ")[:80]
                )
            rows.append(
                f"| {stack} | {name} | {e.get('status')} | `{echo.get('path')}` | `{echo.get('raw_path')}` | "
                f"`{echo.get('query_string')}` | "
                f"`{echo.get('host_header')}` | {'; '.join(other)} |"
            )
    return "\n".join(rows)


def render_md(r: dict[str, Any]) -> str:
    m = r["meta"]
    v = m["versions"]
    out = [
        "# Ferry HTTP stack comparison",
        "",
        f"Generated by `benchmarks/stack/compare.py` on {m['started']} in {m['elapsed_s']} s. "
        f"Python {v['python']}, granian {v['granian']}, uvicorn {v['uvicorn']}, uvloop {v['uvloop']}, "
        f"httptools {v['httptools']}, aiohttp {v['aiohttp']}, {v['wrk']}; "
        f"{v['cpus']} CPUs, kernel {v['kernel']}.",
        "",
        "Method: the same raw ASGI app (`app_asgi.py`, no framework: parse path → SQLite WAL row "
        "(size, etag, path) → read the 4 KiB file → send with Content-Length/ETag) under each ASGI server; "
        "granian-RSGI and aiohttp run the same `common.py` lookup/read code. 1,000 objects, random keys. "
        f"wrk -t2, {m['warmup_s']:g} s warmup then {m['runs']} × {m['duration_s']:g} s per point; "
        "medians shown. Runs are interleaved in rounds across all stacks (run 1 of every point, then run 2, "
        "...), because this VM's CPU speed drifts over time. "
        f"Pinning: {m['pinning']}, so req/s is what *one server core* delivers. "
        "**CPU µs/req** = the server's user+sys CPU time (whole process tree) per request; "
        "**per-core capacity** = 10⁶ ÷ CPU µs/req, i.e. req/s (or MiB/s) one fully busy core would give: "
        "it is far less sensitive than req/s to the machine's noise and is the number to compare stacks by. "
        "**other CPU %** = machine-wide busy CPU that is neither the server nor wrk (loopback softirq, this "
        "script, and any foreign load: this machine is shared with other sessions' test suites). Before "
        "each run the script waits for an idle machine (bounded), and a small-object run whose other CPU "
        "exceeds the threshold is measured again once (`N×redo`; both runs are kept in the JSON). "
        "Peak RSS = whole server process tree (granian CLI = supervisor + 1 worker process). "
        "Lookup variants: `direct` = sqlite3 call on the loop thread (per-thread connection), "
        "`thread` = `asyncio.to_thread`, `lru` = `functools.lru_cache` in front of `direct`. "
        "PUT = body → temp file → fsync → rename → fsync(dir) → INSERT (synchronous=FULL), all in "
        "`asyncio.to_thread`, one SQLite writer behind a lock; `no-fsync` drops both fsyncs and uses "
        "synchronous=NORMAL.",
        "",
        "## Results",
        "",
        results_table(r["points"]),
        "",
        "## What the metadata lookup costs (server CPU per request, from the table above)",
        "",
        lookup_table(r["points"]),
        "",
        "## 64 MiB GET send modes (what the server actually did)",
        "",
        "| stack/mode | status | X-Send-Mode | Content-Length | Transfer-Encoding |",
        "|---|---:|---|---|---|",
    ]
    for k, sm in r["send_modes"].items():
        out.append(
            f"| {k} | {sm['status']} | {sm['x-send-mode']} | {sm['content-length']} | "
            f"{sm['transfer-encoding']} |"
        )
    out += [
        "",
        "ASGI `scope['extensions']` advertised by each server: "
        + ", ".join(f"{k}: {v.get('at_start', {}).get('extensions')}" for k, v in r["lifespan"].items()),
        "",
    ]
    out += ["## Request-target probes (raw socket, `Connection: close`)", "", probe_table(r["probes"]), ""]
    out += [
        "## Background tasks: lifespan-hosted and embedded",
        "",
        "| server | started by | ticks at start | ticks after load | alive | same loop as requests | "
        "same thread | bg timer lag during load: mean / max ms | exit code | lifespan/loop shutdown ran |",
        "|---|---|---:|---:|---|---|---|---:|---:|---|",
    ]
    bg_rows = [
        (f"{k} (CLI)", e, e.get("at_start", {}), e.get("after_load", {})) for k, e in r["lifespan"].items()
    ]
    bg_rows += [(k, e, e.get("probe_t0", {}), e.get("probe_after_load", {})) for k, e in r["embed"].items()]
    for name, e, a, b in bg_rows:
        cells = [
            name,
            a.get("bg_started_by"),
            a.get("bg_ticks"),
            b.get("bg_ticks"),
            b.get("bg_alive"),
            b.get("bg_same_loop_as_request"),
            b.get("bg_same_thread_as_request"),
            f"{b.get('bg_mean_lag_ms')} / {b.get('bg_max_lag_ms')}",
            e.get("exit_code"),
            bool(e.get("shutdown_marker")),
        ]
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    out += [
        "",
        "(uvicorn's CLI re-raises the SIGTERM it caught after its graceful shutdown, hence exit code -15; "
        "the shutdown marker shows lifespan shutdown completed. `ticks` advance every 50 ms; lag = how late "
        "the loop woke the background task, over the whole load phase. All servers stay up for the "
        "whole run, so "
        "uvicorn-embed, never loaded, is the idle control: its max lag shows this VM's own stalls.)",
        "",
    ]
    keys = {
        k: (v.get("absolute-form", {}).get("echo") or {}).get("scope_keys") for k, v in r["probes"].items()
    }
    out += [
        "ASGI scope keys seen on the absolute-form request: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in keys.items() if v),
        "",
    ]
    if NOTES.exists():
        out += [NOTES.read_text().rstrip(), ""]
    out += [
        "## Reproduce",
        "",
        "```",
        "source /work/venv/bin/activate",
        "apt-get install -y wrk   # if missing",
        "python benchmarks/stack/compare.py          # ~10 min (+~40 s removing the PUT files)",
        "python benchmarks/stack/compare.py --quick  # ~2 min smoke test, 1 run x 2 s per point",
        "```",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
