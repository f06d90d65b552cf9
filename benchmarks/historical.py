"""Historical replication against a client-side copy, on the same data, in the same run.

The source bucket holds N small objects and M large ones. Ferry replicates them through a CRR
rule with historical replication on (timed until GetBucketReplicationProgress reports 1.0 and
the destination holds every object); the client-side copy lists, gets and puts every object
with oss2 from 16 threads into another bucket of the destination region.

    python benchmarks/historical.py --small 20000 --large 4 --large-mib 256

Writes benchmarks/results/historical.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import oss2
from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster

RESULTS = Path(__file__).parent / "results"
SRC, DST = "oss-cn-hangzhou", "oss-cn-beijing"
THREADS = 16


def fill(cluster: FerryCluster, small: int, large: int, large_mib: int) -> None:
    body = os.urandom(4096)
    chunk = os.urandom(1024 * 1024)

    def put_small(i: int) -> None:
        cluster.oss2_bucket("hist-src", region=SRC).put_object(f"small/{i:06d}", body)

    def put_large(i: int) -> None:
        def data():  # type: ignore[no-untyped-def]
            for _ in range(large_mib):
                yield chunk

        cluster.oss2_bucket("hist-src", region=SRC).put_object(f"large/{i:02d}", data())

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(put_small, range(small)))
        list(pool.map(put_large, range(large)))


def client_copy(cluster: FerryCluster) -> float:
    src = cluster.oss2_bucket("hist-src", region=SRC)
    keys = [o.key for o in oss2.ObjectIterator(src, max_keys=1000)]
    started = time.monotonic()

    def copy(key: str) -> None:
        source = cluster.oss2_bucket("hist-src", region=SRC)
        target = cluster.oss2_bucket("hist-client", region=DST)
        target.put_object(key, source.get_object(key))  # streamed through the client

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(copy, keys))
    return time.monotonic() - started


def ferry_replication(cluster: FerryCluster, expected: int) -> float:
    src = cluster.oss2_bucket("hist-src", region=SRC)
    started = time.monotonic()
    src.put_bucket_replication(
        ReplicationRule(rule_id="hist", target_bucket_name="hist-ferry", target_bucket_location=DST)
    )
    dst = cluster.oss2_bucket("hist-ferry", region=DST)
    while True:
        progress = src.get_bucket_replication_progress("hist").progress
        if progress.historical_object_progress == 1.0:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    count = sum(1 for _ in oss2.ObjectIterator(dst, max_keys=1000))
    assert count == expected, f"destination holds {count} of {expected} objects"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20000)
    parser.add_argument("--large", type=int, default=4)
    parser.add_argument("--large-mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = FerryCluster.create(Path(tmp)).start()
        try:
            for name, region in (("hist-src", SRC), ("hist-client", DST), ("hist-ferry", DST)):
                cluster.oss2_bucket(name, region=region).create_bucket()
            fill(cluster, args.small, args.large, args.large_mib)
            client_seconds = client_copy(cluster)
            ferry_seconds = ferry_replication(cluster, args.small + args.large)
        finally:
            cluster.stop()
    result = {
        "small_objects": args.small,
        "large_objects": args.large,
        "large_mib": args.large_mib,
        "client_copy_seconds": round(client_seconds, 2),
        "ferry_historical_seconds": round(ferry_seconds, 2),
        "speedup": round(client_seconds / ferry_seconds, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "historical.json").write_text(json.dumps(result, indent=2) + "\n")
    table = (
        "| objects | client copy (oss2, 16 threads) s | Ferry historical replication s | speed-up |\n"
        "|---|---|---|---|\n"
        f"| {args.small} x 4 KiB + {args.large} x {args.large_mib} MiB | {result['client_copy_seconds']} | "
        f"{result['ferry_historical_seconds']} | {result['speedup']}x |\n"
    )
    (RESULTS / "historical.md").write_text(
        "# Historical replication vs. a client-side copy\n\n"
        f"Command: `python benchmarks/historical.py --small {args.small} --large {args.large} "
        f"--large-mib {args.large_mib}`\n\n" + table
    )
    print(table)


if __name__ == "__main__":
    main()
