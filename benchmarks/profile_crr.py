"""py-spy on a source region while it replicates: 16 oss2 threads PUT 4 KiB objects for 14 s
(bounded) into a bucket with one CRR rule; py-spy samples the source process for 10 s.

    .venv/bin/pip install py-spy
    .venv/bin/python benchmarks/profile_crr.py [--gil]

Writes ``results/profile-crr[-gil].txt`` (raw stacks) and prints the PUT count and the heaviest
frames (inclusive share of samples)."""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oss2.models import ReplicationRule  # noqa: E402

from tests.integration.harness import FerryCluster, unique_bucket  # noqa: E402
from tests.integration.replication_helpers import DST, SRC  # noqa: E402


def heaviest(raw: Path, n: int = 30) -> list[tuple[float, str]]:
    total, inclusive = 0, collections.Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for frame in dict.fromkeys(stack.split(";")):
            inclusive[frame] += int(count)
    return [(100 * c / max(total, 1), f) for f, c in inclusive.most_common(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    args = ap.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = ROOT / "benchmarks" / "results" / f"profile-crr{'-gil' if args.gil else ''}.txt"
    with tempfile.TemporaryDirectory() as tmp:
        cluster = FerryCluster.create(Path(tmp)).start_each()
        try:
            src = cluster.oss2_bucket(unique_bucket("p-src"), region=SRC)
            dst = cluster.oss2_bucket(unique_bucket("p-dst"), region=DST)
            src.create_bucket()
            dst.create_bucket()
            src.put_bucket_replication(
                ReplicationRule(target_bucket_name=dst.bucket_name, target_bucket_location=DST)
            )
            time.sleep(3)  # the rule leaves "starting"
            stop = time.monotonic() + 14
            puts = [0] * 16

            def load(t: int) -> None:
                bucket = cluster.oss2_bucket(src.bucket_name, region=SRC)
                while time.monotonic() < stop:
                    bucket.put_object(f"t{t}/k{puts[t]}", b"x" * 4096)
                    puts[t] += 1

            threads = [threading.Thread(target=load, args=(t,)) for t in range(16)]
            for thread in threads:
                thread.start()
            time.sleep(2)
            command = [pyspy, "record", "-p", str(cluster.singles[SRC].pid), "-d", "10", "-r", "200"]
            command += ["--nonblocking", "-f", "raw", "-o", str(out)] + (["--gil"] if args.gil else [])
            subprocess.run(command, capture_output=True, check=True)
            for thread in threads:
                thread.join()
        finally:
            cluster.stop()
    print(f"{sum(puts)} PUTs in 14 s; samples in {out}")
    for share, frame in heaviest(out):
        print(f"{share:5.1f} %  {frame[:140]}")


if __name__ == "__main__":
    main()
