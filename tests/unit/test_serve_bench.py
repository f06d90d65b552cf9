"""Pure helpers of the serving benchmark (benchmarks/serve.py): no server, no timing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qsl, urlsplit

import pytest

from ferry.protocol.auth import authenticate
from ferry.protocol.signable import SignableRequest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


serve = _load("serve")
targets = _load("serve_targets")

WRK_STDOUT = """\
Running 2s test @ http://127.0.0.1:9100
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
Requests/sec:   2368.00
WRKJSON {"requests":4736,"duration_us":2000000,"bytes":20000000,"lat_mean_us":6000.5,"lat_p50_us":6180,\
"lat_p90_us":9000,"lat_p99_us":27400,"lat_max_us":40000,"err_connect":0,"err_read":0,"err_write":0,\
"err_status":3,"err_timeout":1}
"""


def test_parse_wrk_output_finds_the_summary_line() -> None:
    w = serve.parse_wrk_output(WRK_STDOUT)
    assert w["requests"] == 4736
    assert w["lat_p99_us"] == 27400
    assert w["err_status"] == 3


def test_parse_wrk_output_without_summary_raises() -> None:
    with pytest.raises(ValueError, match="WRKJSON"):
        serve.parse_wrk_output("Running 2s test\nsocket errors\n")


def test_median() -> None:
    assert serve.median([3.0, 1.0, 2.0]) == 2.0
    assert serve.median([1.0, 2.0]) == 1.5
    assert serve.median([]) is None


def test_run_figures_counts_put_payload_from_requests_and_get_from_bytes() -> None:
    w = serve.parse_wrk_output(WRK_STDOUT)
    put = serve.run_figures(w, serve.WORKLOADS["put4k"], cpu_s=1.0, wall_s=2.0)
    assert put["rps"] == pytest.approx(2368.0)
    assert put["mibps"] == pytest.approx(4736 * 4096 / 2 / 2**20)
    assert put["p50_ms"] == pytest.approx(6.18)
    assert put["errors"] == 4
    assert put["server_cpu_pct"] == pytest.approx(50.0)
    assert put["cpu_us_per_req"] == pytest.approx(1e6 / 4736)
    get = serve.run_figures(w, serve.WORKLOADS["get64m"], cpu_s=1.0, wall_s=2.0)
    assert get["mibps"] == pytest.approx(20_000_000 / 2 / 2**20)


def test_summarize_takes_medians_and_the_peak_rss() -> None:
    runs = [
        {"rps": r, "mibps": r / 10, "p50_ms": 1.0, "p99_ms": 2.0, "server_cpu_s": 1.0, "server_cpu_pct": 50.0,
         "cpu_us_per_req": 100.0, "rss_peak_mib": rss, "errors": 0, "requests": 10}
        for r, rss in ((100.0, 50.0), (300.0, 70.0), (200.0, 60.0))
    ]  # fmt: skip
    s = serve.summarize(runs)
    assert s["rps"] == 200.0
    assert s["rss_peak_mib"] == 70.0
    assert s["requests"] == 30
    assert s["n_runs"] == 3


def test_top_functions_from_collapsed_stacks() -> None:
    collapsed = (
        "main (a.py:1);handle (b.py:2);sign (c.py:3) 30\n"
        "main (a.py:1);handle (b.py:2) 10\n"
        "main (a.py:1);io (d.py:4) 60\n"
        "main (a.py:1);io (d.py:5) 20\n"
        "boot (t.py:9);_worker (concurrent/futures/thread.py:69) 500\n"
    )
    top = serve.top_functions(collapsed, 10)
    assert top["samples"] == 120
    assert top["idle_samples"] == 500
    own = {r["function"]: r["samples"] for r in top["self"]}
    lines = {r["function"]: r["samples"] for r in top["self_lines"]}
    incl = {r["function"]: r["pct"] for r in top["inclusive"]}
    assert own == {"io (d.py)": 80, "sign (c.py)": 30, "handle (b.py)": 10}
    assert lines["io (d.py:4)"] == 60
    assert incl["main (a.py)"] == 100.0
    assert incl["handle (b.py)"] == pytest.approx(100 * 40 / 120, abs=0.1)
    assert top["inclusive_ferry"] == []


def test_render_markdown_lists_points_ratios_and_checks() -> None:
    summary = {"rps": 2000.0, "mibps": 7.8, "p50_ms": 1.5, "p99_ms": 9.0, "server_cpu_s": 9.9,
               "cpu_us_per_req": 450.0, "rss_peak_mib": 61.0, "errors": 0, "requests": 20000}  # fmt: skip
    peer = dict(summary, rps=500.0)
    points = [
        {"workload": "get4k", "title": "GET 4 KiB", "conc": 16, "target": "ferry", "summary": summary},
        {"workload": "get4k", "title": "GET 4 KiB", "conc": 16, "target": "moto", "summary": peer},
    ]
    result = {
        "meta": {"command": "python benchmarks/serve.py"},
        "points": points,
        "ratios": serve.ratios(points),
    }
    result["targets"] = serve.target_checks(result)
    md = serve.render_markdown(result)
    assert "| GET 4 KiB | 16 | ferry | 2,000 |" in md
    assert "| GET 4 KiB | 16 | 4.00× |" in md
    assert "| 4 KiB GET ≥ 10,000 req/s | 2,000 | not met |" in md


def test_oss_v1_presigned_url_is_accepted_by_ferry() -> None:
    url = targets.oss_v1_presign("PUT", "bench", "put4k/c16-r0/k000001", 4_000_000_000)
    parts = urlsplit(url)
    bucket, _, key = parts.path.lstrip("/").partition("/")
    req = SignableRequest("PUT", bucket, key, tuple(parse_qsl(parts.query)), {})
    secrets = {targets.ACCESS_KEY_ID: targets.ACCESS_KEY_SECRET}
    result = authenticate(req, secrets.get, now=1_800_000_000)
    assert result.access_key_id == targets.ACCESS_KEY_ID


def test_s3_v2_presign_matches_the_aws_documentation_example() -> None:
    # "Query string request authentication" example of the S3 developer guide (SigV2).
    url = targets.s3_v2_presign(
        "GET", "johnsmith", "photos/puppy.jpg", 1175139620, "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )  # fmt: skip
    assert url == (
        "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
        "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"
    )
