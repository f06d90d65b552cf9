"""Nothing is lost or left wrong when region processes are killed (-9) during a mixed workload.

Each cycle kills the source or the destination region at a random moment while
puts, overwrites and deletes go on, and starts it again; the workload retries
an operation until it succeeds, as a client would.  At the end both buckets
must match the model of what the client was told.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import oss2
import pytest
from oss2.models import ReplicationRule

from ferry.core.replication_task import BACKOFF_CAP_SECONDS
from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import DST, SRC, listing, wait_until

KILL_CYCLES = int(os.environ.get("FERRY_FAULT_CYCLES", "20"))


@pytest.fixture
def lone_cluster(tmp_path: Path) -> Iterator[FerryCluster]:
    cluster = FerryCluster.create(tmp_path).start_each()
    try:
        yield cluster
    finally:
        cluster.stop()


def retry(op: Callable[[], object], timeout: float = 60.0) -> object:
    """Repeat an idempotent client operation until the server answers it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return op()
        except (oss2.exceptions.RequestError, oss2.exceptions.ServerError) as error:
            if time.monotonic() > deadline or (
                isinstance(error, oss2.exceptions.ServerError) and error.status < 500
            ):
                raise
            time.sleep(0.05)


class Killer(threading.Thread):
    def __init__(self, cluster: FerryCluster, cycles: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.cluster, self.cycles, self.rng = cluster, cycles, random.Random(seed)
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(self.cycles):
                time.sleep(self.rng.uniform(0.2, 0.8))
                region = self.rng.choice((SRC, DST))
                self.cluster.kill_region(region)
                time.sleep(self.rng.uniform(0.0, 0.3))
                self.cluster.start_region(region)
        except BaseException as error:  # surfaced by the test
            self.error = error
        finally:
            self.done.set()


def test_kill_source_and_destination_during_mixed_workload(lone_cluster: FerryCluster) -> None:
    seed = int(os.environ.get("FERRY_FAULT_SEED", str(random.randrange(1 << 30))))
    print(f"fault seed {seed}, {KILL_CYCLES} kill cycles")
    rng = random.Random(seed)
    src = lone_cluster.oss2_bucket(unique_bucket("fault-src"), region=SRC)
    dst = lone_cluster.oss2_bucket(unique_bucket("fault-dst"), region=DST)
    src.create_bucket()
    dst.create_bucket()
    src.put_bucket_replication(
        ReplicationRule(target_bucket_name=dst.bucket_name, target_bucket_location=DST)
    )

    model: dict[str, str] = {}
    keys = [f"k/{i:02d}" for i in range(24)]
    killer = Killer(lone_cluster, KILL_CYCLES, seed)
    killer.start()
    ops = 0
    while not killer.done.is_set() or ops < 50:
        key = rng.choice(keys)
        if rng.random() < 0.25:
            retry(lambda k=key: src.delete_object(k))  # type: ignore[misc]
            model.pop(key, None)
        else:
            body = os.urandom(rng.randint(0, 64 * 1024))
            retry(lambda k=key, b=body: src.put_object(k, b))  # type: ignore[misc]
            model[key] = hashlib.md5(body).hexdigest().upper()
        ops += 1
    killer.join()
    assert killer.error is None, killer.error
    print(f"{ops} operations")

    assert retry(lambda: listing(src)) == model
    wait_until(lambda: retry(lambda: listing(dst)) == model, timeout=90, what="the destination to converge")
    # A task that failed often during the kills shows FAILED until its next retry, which comes at
    # most BACKOFF_CAP_SECONDS later: every object must end COMPLETED.
    wait_until(
        lambda: all(
            retry(lambda k=key: src.head_object(k)).headers.get("x-oss-replication-status")  # type: ignore[misc, attr-defined]
            == "COMPLETED"
            for key in model
        ),
        timeout=BACKOFF_CAP_SECONDS * 3,
        what="every source object to show COMPLETED",
    )
