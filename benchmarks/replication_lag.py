"""Replication lag under a steady load of 4 KiB PUTs to a CRR rule.

Lag of one object = (time the destination committed the replica) - (time the source's 200 OK
reached the client). Both are read from this machine's clock: the client records each 200 OK,
and the destination's commit times are read afterwards from its metadata database, so
measuring adds no load while the benchmark runs.

    python benchmarks/replication_lag.py --rate 300 --seconds 60

Writes benchmarks/results/replication_lag-<rate>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(rate: float, seconds: float, threads: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = FerryCluster.create(Path(tmp)).start()
        try:
            src = cluster.oss2_bucket("lag-src", region="oss-cn-hangzhou")
            dst = cluster.oss2_bucket("lag-dst", region="oss-cn-beijing")
            src.create_bucket()
            dst.create_bucket()
            src.put_bucket_replication(
                ReplicationRule(target_bucket_name="lag-dst", target_bucket_location="oss-cn-beijing")
            )
            acked: dict[str, float] = {}
            lock = threading.Lock()
            body = os.urandom(4096)
            total = int(rate * seconds)
            start = time.monotonic() + 0.5
            wall_start = time.time() + 0.5

            def worker(offset: int) -> None:
                bucket = cluster.oss2_bucket("lag-src", region="oss-cn-hangzhou")
                for i in range(offset, total, threads):
                    due = start + i / rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    key = f"k/{i:07d}"
                    bucket.put_object(key, body)
                    with lock:
                        acked[key] = time.time()

            pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            achieved = len(acked) / (time.time() - wall_start)
            deadline = time.monotonic() + 120
            db_path = cluster.data_dir("oss-cn-beijing") / "meta.sqlite3"
            while time.monotonic() < deadline:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
                    committed = dict(
                        db.execute("SELECT key, created_at FROM versions WHERE bucket = 'lag-dst'").fetchall()
                    )
                if len(committed) >= len(acked):
                    break
                time.sleep(0.5)
        finally:
            cluster.stop()
    lags = [(committed[k] - t) * 1000 for k, t in acked.items() if k in committed]
    missing = len(acked) - len(lags)
    return {
        "rate_target_per_s": rate,
        "rate_achieved_per_s": round(achieved, 1),
        "seconds": seconds,
        "objects": len(acked),
        "missing_at_destination": missing,
        "lag_ms": {
            "p50": round(percentile(lags, 50), 2),
            "p99": round(percentile(lags, 99), 2),
            "p99.99": round(percentile(lags, 99.99), 2),
            "max": round(max(lags), 2),
            "mean": round(statistics.fmean(lags), 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="PUTs per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8, help="client threads issuing the PUTs")
    args = parser.parse_args()
    result = run(args.rate, args.seconds, args.threads)
    RESULTS.mkdir(exist_ok=True)
    stem = f"replication_lag-{int(args.rate)}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    lag = result["lag_ms"]
    assert isinstance(lag, dict)
    table = (
        "| target PUT/s | achieved PUT/s | objects | p50 ms | p99 ms | p99.99 ms | max ms | missing |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {result['rate_target_per_s']} | {result['rate_achieved_per_s']} | {result['objects']} | "
        f"{lag['p50']} | {lag['p99']} | {lag['p99.99']} | {lag['max']} | "
        f"{result['missing_at_destination']} |\n"
    )
    (RESULTS / f"{stem}.md").write_text(
        "# Replication lag (4 KiB PUTs, one CRR rule, two region processes on loopback)\n\n"
        f"Command: `python benchmarks/replication_lag.py --rate {args.rate} --seconds {args.seconds}`\n\n"
        + table
    )
    print(table)


if __name__ == "__main__":
    main()
