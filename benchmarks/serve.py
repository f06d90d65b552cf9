#!/usr/bin/env python3
"""Serving benchmark (issue #8): Ferry against its peers, same load generator, same run.

Starts Ferry (`python -m ferry serve --region R --config <tmp>`, 127.0.0.1 only, temp data dir)
and, with --peers, moto server, OpenStack Swift with s3api (both pip-installed into
benchmarks/.peers/venv) and Debian's nginx (the static-file ceiling), then drives each with wrk
and benchmarks/serve.lua over pre-signed URLs (OSS V1 for Ferry, AWS SigV2 for the S3 peers):

    put4k    PUT 4 KiB objects (fresh keys every run), req/s
    get4k    GET of 1,000 4 KiB objects, req/s
    put1m    PUT 1 MiB objects (128 keys a run), MiB/s
    get64m   GET of one 64 MiB object, MiB/s
    range1m  GET of 1 MiB ranges of that object (64 different ranges), MiB/s
    put1g    one streamed 1 GiB PUT (http.client, generator body): MiB/s and server RSS growth

each at concurrency 16 and 64, median of --runs runs of --seconds each; runs are interleaved
across servers (round r of every server, then round r+1) so that this shared VM's drift hits all
alike. Server CPU is utime+stime from /proc/<pid>/stat over the run (the whole process tree the
target started), RSS is VmRSS sampled every 0.2 s; "rest" RSS is taken after setup and a warm-up.
The replication row runs put4k against a Ferry source region with one CRR rule to a second region
process, and reports the ratio to the plain figure.

    .venv/bin/python benchmarks/serve.py --seconds 3 --runs 1          # quick, Ferry only
    .venv/bin/python benchmarks/serve.py --peers                       # the full comparison
    .venv/bin/python benchmarks/serve.py --profile --workloads get4k,put4k --runs 1

By default the servers are pinned to CPU 0 and wrk (and this script) to CPU 1.
Writes benchmarks/results/serve.json and serve.md (and profile-*.svg/.txt with --profile).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from serve_targets import (  # noqa: E402
    FerryTarget,
    MotoTarget,
    NginxTarget,
    SwiftTarget,
    Target,
    http_call,
    install_apt,
    install_peers,
    pin_to,
)

RESULTS = HERE / "results"
LUA = HERE / "serve.lua"
MiB = 1024 * 1024
BUCKET = "bench"
N_SMALL = 1000
BIG_KEY = "big/64m"
BIG_SIZE = 64 * MiB
PUT1M_KEYS = 128


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    method: str
    size: int  # payload bytes per request
    unit: str  # the headline unit: "req/s" or "MiB/s"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("put4k", "PUT 4 KiB", "PUT", 4096, "req/s"),
        Workload("get4k", "GET 4 KiB", "GET", 4096, "req/s"),
        Workload("put1m", "PUT 1 MiB", "PUT", MiB, "MiB/s"),
        Workload("get64m", "GET 64 MiB", "GET", BIG_SIZE, "MiB/s"),
        Workload("range1m", "GET 1 MiB ranges of 64 MiB", "GET", MiB, "MiB/s"),
    )
}
ALL_WORKLOADS = (*WORKLOADS, "put1g")

# Issue #8's targets for one Ferry region process, checked against the best concurrency.
TARGETS: list[tuple[str, str, float, str]] = [
    ("get4k", "rps", 10_000, "4 KiB GET ≥ 10,000 req/s"),
    ("get64m", "mibps", 2_000, "64 MiB GET ≥ 2,000 MiB/s"),
    ("range1m", "mibps", 2_000, "1 MiB range GET ≥ 2,000 MiB/s"),
    ("put4k", "rps", 3_000, "4 KiB PUT ≥ 3,000 req/s (durable)"),
    ("put1m", "mibps", 300, "1 MiB PUT ≥ 300 MiB/s"),
]

# The issue's peer figures (same load generator, this machine), for the record.
ISSUE_PEER_FIGURES = {
    "put4k req/s": {"swift": 190, "moto": 320, "s3rver": 1460, "nginx": "900–1,700"},
    "get4k req/s": {"swift": 270, "moto": 340, "s3rver": 1570, "nginx": 48000},
    "put1m MiB/s": {"swift": 119, "moto": 190, "s3rver": 260, "nginx": 580},
    "get64m MiB/s": {"swift": 360, "moto": 960, "s3rver": 700, "nginx": 2650},
    "put1g RSS growth MiB": {"swift": 0, "moto": 2073, "s3rver": 0, "nginx": 0},
}


# --------------------------------------------------------------------------- pure helpers
def parse_wrk_output(stdout: str) -> dict[str, Any]:
    """The ``WRKJSON {...}`` line that serve.lua's done() prints."""
    for line in stdout.splitlines():
        if line.startswith("WRKJSON "):
            parsed: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
            return parsed
    raise ValueError(f"wrk printed no WRKJSON summary:\n{stdout[-2000:]}")


def median(values: Sequence[float]) -> float | None:
    """Median of the values, None when there are none."""
    return statistics.median(values) if values else None


def run_figures(w: dict[str, Any], workload: Workload, cpu_s: float, wall_s: float) -> dict[str, Any]:
    """Turn one wrk summary plus the server's CPU seconds into the figures we report."""
    duration = max(w["duration_us"], 1) / 1e6
    requests = int(w["requests"])
    # wrk counts bytes read, so PUT bodies are not among them; for GETs they include partial
    # responses (a 64 MiB body still in flight at the end of the run)
    payload = requests * workload.size if workload.method == "PUT" else int(w["bytes"])
    errors = sum(
        int(w.get(k, 0)) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout")
    )
    return {
        "requests": requests,
        "rps": requests / duration,
        "mibps": payload / duration / MiB,
        # no completed request (a 64 MiB GET that outlasts a short run): no latency either
        "p50_ms": w["lat_p50_us"] / 1000 if requests else None,
        "p99_ms": w["lat_p99_us"] / 1000 if requests else None,
        "max_ms": w["lat_max_us"] / 1000 if requests else None,
        "server_cpu_s": cpu_s,
        "server_cpu_pct": 100 * cpu_s / wall_s if wall_s > 0 else 0.0,
        "cpu_us_per_req": cpu_s / requests * 1e6 if requests else None,
        "errors": errors,
        "err_status": int(w.get("err_status", 0)),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs (peak RSS: the maximum)."""

    def med(key: str) -> float | None:
        return median([r[key] for r in runs if r.get(key) is not None])

    return {
        "rps": med("rps"),
        "mibps": med("mibps"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "server_cpu_s": med("server_cpu_s"),
        "server_cpu_pct": med("server_cpu_pct"),
        "cpu_us_per_req": med("cpu_us_per_req"),
        "rss_peak_mib": max((r["rss_peak_mib"] for r in runs), default=None),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "other_cpu_pct_max": max((r.get("other_cpu_pct", 0.0) for r in runs), default=None),
        "n_runs": len(runs),
    }


# Leaf frames of threads that only wait: an executor thread blocked in its queue's get() and a
# thread blocked on a Condition. py-spy's own idle detection does not catch them here.
IDLE_LEAVES = ("_worker (concurrent/futures/thread.py:", "wait (threading.py:")


def _function_of(frame: str) -> str:
    """``name (file.py:123)`` -> ``name (file.py)``."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def _is_ferry_work(func: str) -> bool:
    """Ferry's own functions, less the entry points every sample goes through."""
    return "(ferry/" in func and not any(
        entry in func for entry in ("(ferry/__main__.py)", "(ferry/cli.py)", "(ferry/server.py)")
    )


def top_functions(collapsed: str, n: int = 20) -> dict[str, Any]:
    """Sample shares from py-spy's raw (collapsed) output: by leaf line, by function, inclusive.

    Each line is ``frame;frame;...;leaf COUNT``, outermost frame first, each frame
    ``name (file:line)``. Stacks whose leaf only waits (IDLE_LEAVES) are counted apart and left
    out of the shares.
    """
    own_line: dict[str, int] = defaultdict(int)
    own_func: dict[str, int] = defaultdict(int)
    incl: dict[str, int] = defaultdict(int)
    total = idle = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            idle += count
            continue
        total += count
        own_line[frames[-1]] += count
        own_func[_function_of(frames[-1])] += count
        for func in {_function_of(f) for f in frames}:
            incl[func] += count

    def rows(table: dict[str, int]) -> list[dict[str, Any]]:
        ordered = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [
            {"function": f, "samples": c, "pct": round(100 * c / total, 1) if total else 0.0}
            for f, c in ordered
        ]

    return {
        "samples": total,
        "idle_samples": idle,
        "self_lines": rows(own_line),
        "self": rows(own_func),
        "inclusive": rows(incl),
        "inclusive_ferry": rows({f: c for f, c in incl.items() if _is_ferry_work(f)}),
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def render_markdown(result: dict[str, Any]) -> str:
    """The Markdown report: one table of all points, then ratios, 1 GiB PUT, rest RSS, targets."""
    meta = result.get("meta", {})
    out = [
        "# Serving benchmark (issue #8)",
        "",
        f"Command: `{meta.get('command', 'python benchmarks/serve.py')}`  ",
        f"Started {meta.get('started', '?')}; {meta.get('runs', '?')} run(s) × "
        f"{meta.get('seconds', '?')} s per point, median; wrk {meta.get('wrk_threads', '?')} threads; "
        f"{meta.get('pinning', '')}; "
        f"{meta.get('cpus', '?')} CPUs (machine shared with other sessions' test suites).",
        "",
        "Server CPU s: utime+stime of the server's processes during one run (median); other CPU %: "
        "what else kept the machine busy during the run (loopback, other sessions), worst run.",
        "",
        "| workload | conc | server | req/s | MiB/s | p50 ms | p99 ms | server CPU s | CPU µs/req "
        "| peak RSS MiB | errors | other CPU % |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.get("points", []):
        s = p["summary"]
        big = p["workload"] in ("get64m", "range1m", "put1m")
        out.append(
            f"| {p['title']} | {p['conc']} | {p['target']} | {_fmt(s['rps'], 1 if big else 0)} | "
            f"{_fmt(s['mibps'], 1)} | {_fmt(s['p50_ms'], 2)} | {_fmt(s['p99_ms'], 2)} | "
            f"{_fmt(s['server_cpu_s'], 2)} | {_fmt(s['cpu_us_per_req'], 0)} | {_fmt(s['rss_peak_mib'], 0)} | "
            f"{s['errors']} | {_fmt(s.get('other_cpu_pct_max'), 0)} |"
        )
    ratios = result.get("ratios", [])
    if ratios:
        out += ["", "## Ferry ÷ peer (same run, same concurrency)", ""]
        peers = sorted({r["peer"] for r in ratios})
        out.append("| workload | conc | " + " | ".join(f"÷ {p}" for p in peers) + " |")
        out.append("|---|---:|" + "---:|" * len(peers))
        keyed = {(r["workload"], r["conc"], r["peer"]): r["ratio"] for r in ratios}
        for wl, conc in sorted(
            {(r["workload"], r["conc"]) for r in ratios}, key=lambda x: (list(WORKLOADS).index(x[0]), x[1])
        ):
            cells = [
                _fmt(keyed.get((wl, conc, p)), 2) + ("×" if keyed.get((wl, conc, p)) is not None else "")
                for p in peers
            ]
            out.append(f"| {WORKLOADS[wl].title} | {conc} | " + " | ".join(cells) + " |")
    big = result.get("put1g", {})
    if big:
        out += [
            "",
            "## 1 GiB PUT (one streamed request) and RSS",
            "",
            "| server | MiB/s | seconds | RSS before MiB | RSS peak MiB | RSS growth MiB | status |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for name, b in big.items():
            out.append(
                f"| {name} | {_fmt(b.get('mibps'), 1)} | {_fmt(b.get('seconds'), 1)} | "
                f"{_fmt(b.get('rss_before_mib'), 0)} | {_fmt(b.get('rss_peak_mib'), 0)} | "
                f"{_fmt(b.get('rss_growth_mib'), 0)} | {b.get('status', '?')} |"
            )
    servers = result.get("servers", {})
    if servers:
        out += [
            "",
            "## Servers",
            "",
            "| server | rest RSS MiB | processes | versions | what |",
            "|---|---:|---:|---|---|",
        ]
        for name, info in servers.items():
            versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
            what = info.get("description", "")
            if info.get("error"):
                what = f"**not measured**: {info['error']}"
            out.append(
                f"| {name} | {_fmt(info.get('rest_rss_mib'), 0)} | {info.get('processes', '–')} | "
                f"{versions} | {what} |"
            )
    repl = result.get("replication", {})
    if repl:
        out += [
            "",
            "## Replication: 4 KiB PUT with one CRR rule vs without",
            "",
            "| conc | without rule req/s | with rule req/s | ratio | target |",
            "|---:|---:|---:|---:|---|",
        ]
        for conc, r in sorted(repl.get("by_conc", {}).items(), key=lambda kv: int(kv[0])):
            out.append(
                f"| {conc} | {_fmt(r['without'], 0)} | {_fmt(r['with'], 0)} | {_fmt(r['ratio'], 2)} | "
                f"≥ 0.70: {'met' if r['ratio'] is not None and r['ratio'] >= 0.7 else 'not met'} |"
            )
        if "replicated_check" in repl:
            out.append(f"\nReplica check: {repl['replicated_check']}")
    checks = result.get("targets", [])
    if checks:
        out += [
            "",
            "## Ferry against the issue's targets (best concurrency)",
            "",
            "| target | measured | |",
            "|---|---:|---|",
        ]
        for c in checks:
            out.append(f"| {c['target']} | {_fmt(c['measured'], 0)} | {'met' if c['met'] else 'not met'} |")
    profile = result.get("profile")
    if profile:
        out += ["", "## Profile (py-spy, Ferry under 4 KiB GET and PUT, c=64)", ""]
        if "error" in profile:
            out.append(f"py-spy failed: {profile['error']}")
        for wl, tops in profile.items():
            if not isinstance(tops, dict) or "all" not in tops:
                continue
            head = ", ".join(f"{r['function']} {r['pct']}%" for r in tops["all"]["self"][:5])
            out.append(
                f"- {WORKLOADS[wl].title}: own time, all busy threads: {head} "
                f"(tables: `profile-{wl}-top.md`, flame graph: `profile-{wl}.svg`)"
            )
    issue = meta.get("issue_peer_figures")
    if issue:
        out += ["", "## The issue's peer figures (for reference, not measured here)", ""]
        names = ["swift", "moto", "s3rver", "nginx"]
        out += ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for figure, row in issue.items():
            out.append(f"| {figure} | " + " | ".join(str(row.get(n, "–")) for n in names) + " |")
    notes = result.get("notes", [])
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- measuring
class RssSampler(threading.Thread):
    """Peak RSS of a target's process tree, sampled until finish()."""

    def __init__(self, target: Target, period: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.target, self.period, self.peak = target, period, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self.target.rss())
            self._stop_event.wait(self.period)

    def finish(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return max(self.peak, self.target.rss())


def busy_cpu_seconds() -> float:
    """Machine-wide non-idle CPU seconds so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def quiet_gate(max_wait: float, busy_limit: float = 0.3, sample: float = 0.2) -> float:
    """Wait at most ``max_wait`` s until less than ``busy_limit`` cores are busy (shared machine)."""
    t0 = time.monotonic()
    for _ in range(int(max_wait / sample) + 1):
        b0 = busy_cpu_seconds()
        time.sleep(sample)
        if (busy_cpu_seconds() - b0) / sample < busy_limit:
            break
    return time.monotonic() - t0


class Bench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.pin = not args.no_pin and (os.cpu_count() or 1) >= 2
        self.server_cpu = 0 if self.pin else None
        self.client_cpu = 1 if self.pin else None
        self.bodies = {4096: root / "body-4k.bin", MiB: root / "body-1m.bin"}
        for size, path in self.bodies.items():
            path.write_bytes(os.urandom(size))
        self.reqdir = root / "requests"
        self.reqdir.mkdir()

    # -- request files
    def request_file(self, target: Target, workload: Workload, conc: int, run: int) -> Path:
        path = self.reqdir / f"{target.name}-{workload.name}-c{conc}-r{run}.txt"
        lines: list[str] = []
        if workload.name == "get4k":
            lines = [f"GET\t{target.presign('GET', BUCKET, small_key(i))}" for i in range(N_SMALL)]
        elif workload.name == "get64m":
            lines = [f"GET\t{target.presign('GET', BUCKET, BIG_KEY)}"]
        elif workload.name == "range1m":
            url = target.presign("GET", BUCKET, BIG_KEY)
            lines = [
                f"GET\t{url}\tRange: bytes={i * MiB}-{(i + 1) * MiB - 1}" for i in range(BIG_SIZE // MiB)
            ]
        elif workload.name in ("put4k", "put1m"):
            n = self.args.put_keys if workload.name == "put4k" else PUT1M_KEYS
            prefix = f"{workload.name}/c{conc}-r{run}"
            lines = [f"PUT\t{target.presign('PUT', BUCKET, f'{prefix}/k{i:06d}')}" for i in range(n)]
        path.write_text("\n".join(lines) + "\n")
        return path

    def wrk(
        self, target: Target, workload: Workload, reqfile: Path, conc: int, seconds: float
    ) -> tuple[dict[str, Any], str]:
        threads = min(self.args.threads, conc)
        body = str(self.bodies[workload.size]) if workload.method == "PUT" else ""
        cmd = [
            "wrk", "-t", str(threads), "-c", str(conc), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "60s", "-s", str(LUA), f"http://127.0.0.1:{target.port}",
            "--", str(reqfile), body, str(threads),
        ]  # fmt: skip
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 120, preexec_fn=pin_to(self.client_cpu)
        )
        return parse_wrk_output(done.stdout), done.stderr

    def one_run(self, target: Target, workload: Workload, conc: int, run: int) -> dict[str, Any]:
        reqfile = self.request_file(target, workload, conc, run)
        if workload.method == "PUT":
            os.sync()  # no previous run's dirty pages
        waited = quiet_gate(self.args.quiet_wait)
        sampler = RssSampler(target)
        sampler.start()
        extra0 = target.replica_cpu_seconds() if isinstance(target, FerryTarget) else 0.0
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        b0, c0, t0 = busy_cpu_seconds(), target.cpu(), time.monotonic()
        w, stderr = self.wrk(target, workload, reqfile, conc, self.args.seconds)
        b1, c1, t1 = busy_cpu_seconds(), target.cpu(), time.monotonic()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        peak = sampler.finish()
        fig = run_figures(w, workload, c1 - c0, t1 - t0)
        fig.update(
            run=run,
            rss_peak_mib=peak / MiB,
            quiet_wait_s=round(waited, 2),
            wrk_cpu_pct=100 * wrk_cpu / (t1 - t0),
            # everything else busy on the machine (loopback softirqs, other sessions' tests):
            # a high value flags a disturbed run
            other_cpu_pct=100 * ((b1 - b0) - (c1 - c0) - wrk_cpu) / (t1 - t0),
        )
        if isinstance(target, FerryTarget) and target.replicate:
            fig["replica_process_cpu_s"] = target.replica_cpu_seconds() - extra0
        if fig["errors"]:
            fig["wrk_stderr"] = stderr[-500:]
        reqfile.unlink()
        return fig

    # -- setup
    def populate(self, target: Target) -> None:
        target.create_bucket(BUCKET)
        small = os.urandom(4096)
        for i in range(N_SMALL):
            target.put(BUCKET, small_key(i), small)
        chunk = os.urandom(MiB)
        target.put(BUCKET, BIG_KEY, chunk * (BIG_SIZE // MiB))
        got = target.get(BUCKET, small_key(7))
        if got != small:
            raise RuntimeError(f"{target.name}: GET returned {len(got)} bytes, not the 4 KiB written")
        status, body = http_call(
            target.port,
            "GET",
            target.presign("GET", BUCKET, BIG_KEY),
            headers={"Range": f"bytes={MiB}-{2 * MiB - 1}"},
        )
        if status != 206 or body != chunk:
            raise RuntimeError(f"{target.name}: range GET answered {status} with {len(body)} bytes")

    def warm_up(self, target: Target) -> float:
        """A short GET load (not measured), then the rest RSS in MiB."""
        reqfile = self.request_file(target, WORKLOADS["get4k"], 16, -1)
        self.wrk(target, WORKLOADS["get4k"], reqfile, 16, self.args.warmup)
        reqfile.unlink()
        time.sleep(1.0)
        return target.rss() / MiB

    def put_1gib(self, target: Target) -> dict[str, Any]:
        """One streamed 1 GiB PUT; RSS of the server sampled every 50 ms."""
        size = self.args.big_put_mib * MiB
        chunk = os.urandom(MiB)

        def body() -> Iterator[bytes]:
            for _ in range(size // MiB):
                yield chunk

        os.sync()
        before = target.rss()
        sampler = RssSampler(target, period=0.05)
        sampler.start()
        c0, t0 = target.cpu(), time.monotonic()
        try:
            status, reply = http_call(
                target.port,
                "PUT",
                target.presign("PUT", BUCKET, "big/1g"),
                body(),
                headers={"Content-Length": str(size)},
                timeout=900,
            )
        except OSError as exc:
            status, reply = 0, repr(exc).encode()
        t1, c1 = time.monotonic(), target.cpu()
        peak = sampler.finish()
        return {
            "status": status if status != 0 else reply.decode(errors="replace")[:200],
            "mibps": size / MiB / (t1 - t0) if status in (200, 201) else None,
            "seconds": t1 - t0,
            "server_cpu_s": c1 - c0,
            "rss_before_mib": before / MiB,
            "rss_peak_mib": peak / MiB,
            "rss_growth_mib": (peak - before) / MiB,
        }

    def profile(self, target: FerryTarget, out_dir: Path) -> dict[str, Any]:
        """py-spy against the Ferry process under 4 KiB GET and PUT load (c=64).

        Three sampling runs per workload, each under its own wrk run (fresh keys for PUTs):
        a flame graph of all busy threads, the same as raw stacks (-> top tables), and raw
        stacks of the thread holding the GIL only (where Python itself spends the CPU).
        """
        pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(pyspy).exists():
            return {"error": "py-spy not installed (pip install py-spy)"}
        found: dict[str, Any] = {}
        seconds = self.args.profile_seconds
        modes: tuple[tuple[str, str, list[str]], ...] = (
            ("flamegraph", "svg", []),
            ("raw", "txt", []),
            ("raw", "gil.txt", ["--gil"]),
        )
        n = 0
        for wl_name in ("get4k", "put4k"):
            workload = WORKLOADS[wl_name]
            tops: dict[str, Any] = {}
            for fmt, suffix, extra in modes:
                n += 1
                out = out_dir / f"profile-{wl_name}.{suffix}"
                reqfile = self.request_file(target, workload, 64, 900 + n)
                spy = subprocess.Popen(
                    [pyspy, "record", "-p", str(target.main_pid()), "-d", str(int(seconds)), "-r", "100",
                     "--nonblocking", *extra, "-f", fmt, "-o", str(out)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=pin_to(self.client_cpu),
                )  # fmt: skip
                time.sleep(0.5)
                w, _ = self.wrk(target, workload, reqfile, 64, seconds)
                try:
                    log, _ = spy.communicate(timeout=seconds + 60)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    log, _ = spy.communicate()
                reqfile.unlink()
                if spy.returncode != 0 or not out.exists():
                    return {"error": f"py-spy failed: {log.decode(errors='replace')[-500:]}"}
                if fmt == "raw":
                    top = top_functions(out.read_text(), 25)
                    top["rps_while_profiled"] = w["requests"] / max(w["duration_us"], 1) * 1e6
                    tops["gil" if extra else "all"] = top
            found[wl_name] = tops
            (out_dir / f"profile-{wl_name}-top.md").write_text(render_top(wl_name, tops))
        return found


def render_top(name: str, tops: dict[str, Any]) -> str:
    """Markdown tables of one workload's py-spy profiles (all busy threads; GIL holder only)."""
    lines = [f"# py-spy: Ferry under {WORKLOADS[name].title}, c=64", ""]
    all_, gil = tops.get("all"), tops.get("gil")
    if all_:
        lines += [
            f"All busy threads: {all_['samples']} samples at 100 Hz "
            f"({all_.get('idle_samples', 0)} more of idle executor threads left out), "
            f"{_fmt(all_.get('rps_while_profiled'), 0)} req/s while sampled "
            "(py-spy --nonblocking). A frame that calls into C (sqlite3, os.*, uvloop) is charged with the "
            "C time, including waits for the GIL on return; `Runner.run` as a leaf is uvloop's C code "
            "(socket I/O, epoll waits).",
        ]
    if gil:
        lines += [
            "",
            f"GIL holder only (py-spy --gil): {gil['samples']} samples, "
            f"{_fmt(gil.get('rps_while_profiled'), 0)} req/s while sampled: where Python itself runs.",
        ]
    tables = (
        ("All busy threads: own time by function", all_, "self"),
        ("All busy threads: own time by line", all_, "self_lines"),
        ("All busy threads: inclusive time of Ferry's functions", all_, "inclusive_ferry"),
        ("GIL holder: own time by function", gil, "self"),
        ("GIL holder: inclusive time of Ferry's functions", gil, "inclusive_ferry"),
    )
    for title, top, key in tables:
        if not top:
            continue
        lines += ["", f"## {title}", "", "| % | samples | frame |", "|---:|---:|---|"]
        lines += [f"| {r['pct']} | {r['samples']} | `{r['function']}` |" for r in top.get(key, [])]
    return "\n".join(lines) + "\n"


def run_line(name: str, workload: Workload, conc: int, run: int, fig: dict[str, Any]) -> str:
    """One progress line per measured run."""
    line = (
        f"{workload.title:28s} c{conc:<3d} r{run} {name:10s} {fig['rps']:9.0f} req/s "
        f"{fig['mibps']:8.1f} MiB/s p50 {_fmt(fig['p50_ms'], 2):>7s} p99 {_fmt(fig['p99_ms'], 2):>8s} ms "
        f"cpu {fig['server_cpu_s']:5.2f}s rss {fig['rss_peak_mib']:6.0f} MiB err {fig['errors']} "
        f"wrk {fig['wrk_cpu_pct']:.0f}% other {fig['other_cpu_pct']:.0f}%"
    )
    if "replica_process_cpu_s" in fig:
        line += f" replica cpu {fig['replica_process_cpu_s']:.2f}s"
    return line


def small_key(i: int) -> str:
    return f"small/k{i:05d}"


# --------------------------------------------------------------------------- driver
def build_targets(
    args: argparse.Namespace, root: Path, server_cpu: int | None, log: Path
) -> tuple[list[Target], dict[str, str]]:
    wanted = [t for t in args.servers.split(",") if t]
    if args.peers:
        wanted += [t for t in ("moto", "swift", "nginx") if t not in wanted]
    skipped: dict[str, str] = {}
    targets: list[Target] = []
    if any(t in wanted for t in ("moto", "swift")):
        print(f"installing peers into benchmarks/.peers/venv (log: {log})", flush=True)
        try:
            install_peers(log)
        except (subprocess.SubprocessError, OSError) as exc:
            for t in ("moto", "swift"):
                if t in wanted:
                    skipped[t] = f"pip install failed: {exc}"
    if "swift" in wanted or "nginx" in wanted:
        install_apt([p for p, t in (("memcached", "swift"), ("nginx", "nginx")) if t in wanted], log)
    for name in wanted:
        if name in skipped:
            continue
        if name == "ferry":
            targets.append(FerryTarget(root / "ferry", server_cpu))
        elif name == "moto":
            targets.append(MotoTarget(root / "moto", server_cpu))
        elif name == "swift":
            targets.append(SwiftTarget(root / "swift", server_cpu))
        elif name == "nginx":
            if NginxTarget.binary() is None:
                skipped["nginx"] = "nginx is not installed (apt-get install nginx)"
            else:
                targets.append(NginxTarget(root / "nginx", server_cpu))
        else:
            raise SystemExit(f"unknown server {name!r}")
    return targets, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds per measured wrk run")
    ap.add_argument("--runs", type=int, default=3, help="runs per point (the median is reported)")
    ap.add_argument("--conc", default="16,64", help="concurrencies (wrk -c)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument(
        "--workloads", default=",".join(ALL_WORKLOADS), help=f"subset of {','.join(ALL_WORKLOADS)}"
    )
    ap.add_argument("--servers", default="ferry", help="comma list of ferry,moto,swift,nginx")
    ap.add_argument("--peers", action="store_true", help="add moto, Swift+s3api and nginx (installs them)")
    ap.add_argument("--no-replication", action="store_true", help="skip the put4k row with one CRR rule")
    ap.add_argument("--profile", action="store_true", help="py-spy Ferry under 4 KiB GET and PUT (c=64)")
    ap.add_argument("--profile-seconds", type=float, default=10.0)
    ap.add_argument("--profile-dir", default=str(RESULTS), help="where profile-*.svg/.txt/-top.md go")
    ap.add_argument(
        "--put-keys", type=int, default=40_000, help="distinct keys per put4k run (then overwrites)"
    )
    ap.add_argument("--big-put-mib", type=int, default=1024, help="size of the streamed PUT (put1g)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of GET load before the rest RSS")
    ap.add_argument(
        "--quiet-wait", type=float, default=2.0, help="max s to wait for an idle machine before a run"
    )
    ap.add_argument("--no-pin", action="store_true", help="do not pin servers to CPU 0 and wrk to CPU 1")
    ap.add_argument("--data-dir", default="", help="scratch dir (default: a temp dir, removed afterwards)")
    ap.add_argument("--out", default=str(RESULTS / "serve"), help="output path without extension")
    ap.add_argument(
        "--render", metavar="JSON", help="only re-render the Markdown of an existing results JSON"
    )
    args = ap.parse_args(argv)
    if args.render:
        md = render_markdown(json.loads(Path(args.render).read_text()))
        Path(args.render).with_suffix(".md").write_text(md)
        print(md)
        return 0
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(workloads) - set(ALL_WORKLOADS)
    if unknown:
        ap.error(f"unknown workloads {sorted(unknown)}")
    concs = [int(c) for c in args.conc.split(",")]
    t_start = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - t_start:6.0f}s] {text}", flush=True)

    root = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="ferry-serve-"))
    root.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, root)
    if bench.client_cpu is not None:
        os.sched_setaffinity(0, {bench.client_cpu})  # this script and its 1 GiB client
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    targets, skipped = build_targets(args, root, bench.server_cpu, root / "install.log")
    result: dict[str, Any] = {
        "meta": {
            "command": "python benchmarks/serve.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "seconds": args.seconds,
            "runs": args.runs,
            "concurrency": concs,
            "wrk_threads": args.threads,
            "pinning": "servers on CPU 0, wrk on CPU 1" if bench.pin else "not pinned",
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0:1],
            "issue_peer_figures": ISSUE_PEER_FIGURES,
        },
        "servers": {name: {"error": why} for name, why in skipped.items()},
        "points": [],
        "put1g": {},
        "notes": [],
    }
    running: list[Target] = []
    try:
        # ---- start and fill every server, then measure rest RSS
        for target in targets:
            say(f"starting {target.name}")
            info: dict[str, Any] = {"description": target.description}
            try:
                target.start()
                running.append(target)
                target.expires = int(time.time()) + 2 * 24 * 3600
                bench.populate(target)
                info["rest_rss_mib"] = bench.warm_up(target)
                info["processes"] = len(target.pids())
                info["versions"] = target.versions()
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
                info["error"] = f"{type(exc).__name__}: {exc}"
                say(f"{target.name} failed: {exc}\n{target.log_tail()}")
                info["log_tail"] = target.log_tail()
                target.stop()
                with contextlib.suppress(ValueError):
                    running.remove(target)
            result["servers"][target.name] = info
        # ---- interleaved rounds
        for wl_name in workloads:
            if wl_name == "put1g":
                continue
            workload = WORKLOADS[wl_name]
            for conc in concs:
                runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in running}
                for r in range(args.runs):
                    for target in running:
                        fig = bench.one_run(target, workload, conc, r)
                        runs[target.name].append(fig)
                        say(run_line(target.name, workload, conc, r, fig))
                for target in running:
                    result["points"].append(
                        {
                            "workload": wl_name,
                            "title": workload.title,
                            "conc": conc,
                            "target": target.name,
                            "summary": summarize(runs[target.name]),
                            "runs": runs[target.name],
                        }
                    )
        # ---- replication row: a fresh Ferry pair, one CRR rule
        ferry = next((t for t in running if isinstance(t, FerryTarget)), None)
        if ferry is not None and "put4k" in workloads and not args.no_replication:
            result["replication"] = replication_phase(bench, result, concs, say)
        # ---- profile
        if ferry is not None and args.profile:
            say("profiling Ferry with py-spy")
            result["profile"] = bench.profile(ferry, Path(args.profile_dir))
        # ---- 1 GiB PUT, last (moto keeps the bytes in memory)
        if "put1g" in workloads:
            for target in running:
                say(f"1 GiB PUT to {target.name}")
                result["put1g"][target.name] = bench.put_1gib(target)
                say(f"  {result['put1g'][target.name]}")
    finally:
        say("stopping servers")
        for target in running:
            target.stop()
        if not args.data_dir:
            shutil.rmtree(root, ignore_errors=True)
    result["ratios"] = ratios(result["points"])
    result["targets"] = target_checks(result)
    result["notes"] += notes_for(result)
    result["meta"]["elapsed_s"] = round(time.monotonic() - t_start, 1)
    result["meta"]["loadavg_at_end"] = os.getloadavg()
    out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    md = render_markdown(result)
    out.with_suffix(".md").write_text(md)
    print()
    print(md)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


def replication_phase(bench: Bench, result: dict[str, Any], concs: list[int], say: Any) -> dict[str, Any]:
    """put4k against a fresh Ferry source region with one CRR rule (second region on the wrk CPU)."""
    target = FerryTarget(
        bench.root / "ferry-crr", bench.server_cpu, replicate=True, replica_cpu=bench.client_cpu
    )
    say("starting ferry+crr (two region processes, one CRR rule)")
    workload = WORKLOADS["put4k"]
    out: dict[str, Any] = {"description": target.description, "by_conc": {}}
    try:
        target.start()
        target.create_bucket(BUCKET)
        target.add_replication_rule(BUCKET, "bench-replica")
        time.sleep(3.0)  # the rule leaves its "starting" state (rule_settle_seconds)
        target.put(BUCKET, "probe", b"probe")
        deadline = time.monotonic() + 30
        while not target.replica_has("bench-replica", "probe") and time.monotonic() < deadline:
            time.sleep(0.2)
        out["rest_rss_mib"] = target.rss() / MiB
        points = []
        for conc in concs:
            runs = []
            for r in range(bench.args.runs):
                fig = bench.one_run(target, workload, conc, r)
                runs.append(fig)
                say(run_line(target.name, workload, conc, r, fig))
            summary = summarize(runs)
            points.append({"workload": "put4k", "title": workload.title, "conc": conc, "target": target.name,
                           "summary": summary, "runs": runs})  # fmt: skip
            plain = next(
                (p["summary"]["rps"] for p in result["points"]
                 if p["workload"] == "put4k" and p["conc"] == conc and p["target"] == "ferry"),
                None,
            )  # fmt: skip
            ratio = summary["rps"] / plain if plain and summary["rps"] is not None else None
            out["by_conc"][str(conc)] = {"without": plain, "with": summary["rps"], "ratio": ratio}
        result["points"].extend(points)
        # wrk's first request() call only verifies the script, so k000000 may never be sent:
        # check the first key the source really has
        written = [f"put4k/c{concs[0]}-r0/k{i:06d}" for i in range(8)]
        key = next((k for k in written if target.has(BUCKET, k)), written[-1])
        t0 = time.monotonic()
        while not target.replica_has("bench-replica", key) and time.monotonic() - t0 < 60:
            time.sleep(0.5)
        present = target.replica_has("bench-replica", key)
        out["replicated_check"] = (
            f"`{key}` (one of the first keys written) was "
            + (f"present in the destination {time.monotonic() - t0:.1f} s" if present else "NOT present 60 s")
            + " after the last run"
        )
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["log_tail"] = target.log_tail()
        say(f"ferry+crr failed: {exc}")
    finally:
        target.stop()
    return out


def ratios(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ferry's headline figure divided by each peer's, per workload and concurrency."""
    by = {(p["workload"], p["conc"], p["target"]): p["summary"] for p in points}
    out = []
    for (wl, conc, name), s in by.items():
        if name in ("ferry", "ferry+crr"):
            continue
        ferry = by.get((wl, conc, "ferry"))
        key = "rps" if WORKLOADS[wl].unit == "req/s" else "mibps"
        if ferry and ferry[key] and s[key]:
            out.append({"workload": wl, "conc": conc, "peer": name, "ratio": ferry[key] / s[key]})
    return out


def target_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for wl, key, goal, text in TARGETS:
        vals = [p["summary"][key] for p in result["points"] if p["target"] == "ferry" and p["workload"] == wl]
        vals = [v for v in vals if v is not None]
        if vals:
            checks.append({"target": text, "measured": max(vals), "met": max(vals) >= goal})
    big = result.get("put1g", {}).get("ferry")
    if big and big.get("rss_growth_mib") is not None:
        checks.append({"target": "1 GiB PUT: RSS growth ≤ 64 MiB", "measured": big["rss_growth_mib"],
                       "met": big["rss_growth_mib"] <= 64 and big["status"] == 200})  # fmt: skip
    rest = result.get("servers", {}).get("ferry", {}).get("rest_rss_mib")
    if rest is not None:
        checks.append(
            {"target": "region process at rest ≤ 100 MiB RSS", "measured": rest, "met": rest <= 100}
        )
    repl = result.get("replication", {}).get("by_conc", {})
    for conc, r in repl.items():
        if r.get("ratio") is not None:
            checks.append({"target": f"4 KiB PUT with one CRR rule ≥ 70% of without (c={conc}), %",
                           "measured": 100 * r["ratio"], "met": r["ratio"] >= 0.7})  # fmt: skip
    return checks


def notes_for(result: dict[str, Any]) -> list[str]:
    notes = []
    for p in result["points"]:
        s = p["summary"]
        if s["errors"] and s["requests"] and s["errors"] / s["requests"] > 0.001:
            notes.append(
                f"{p['target']} {p['title']} c{p['conc']}: {s['errors']} errors in {s['requests']} requests "
                "(non-2xx or socket errors): its figure is not comparable"
            )
    return notes


if __name__ == "__main__":
    sys.exit(main())
