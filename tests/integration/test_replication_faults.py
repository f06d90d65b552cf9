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


PART = 100 * 1024  # OSS's smallest part but the last


def _multipart_put(bucket: oss2.Bucket, key: str, body: bytes, meta: dict[str, str]) -> None:
    """Initiate, two parts, complete, each step retried; a Complete whose answer was lost to a
    kill finds its upload gone (NoSuchUpload) and is checked against the object instead."""
    upload_id = retry(lambda: bucket.init_multipart_upload(key, headers=meta).upload_id)
    assert isinstance(upload_id, str)
    parts = []
    for number, start in ((1, 0), (2, PART)):
        chunk = body[start : start + PART] if number == 1 else body[PART:]
        result = retry(lambda n=number, c=chunk: bucket.upload_part(key, upload_id, n, c))  # type: ignore[misc]
        parts.append(oss2.models.PartInfo(number, result.etag))  # type: ignore[attr-defined]
    try:
        retry(lambda: bucket.complete_multipart_upload(key, upload_id, parts))
    except oss2.exceptions.NoSuchUpload:
        head = retry(lambda: bucket.head_object(key))
        assert head.headers.get("x-oss-meta-op") == meta["x-oss-meta-op"]  # type: ignore[attr-defined]


def _version_states(bucket: oss2.Bucket) -> dict[tuple[str, str], tuple[str, bool, str | None]]:
    """(key, version id) -> (ETag, is delete marker, x-oss-meta-op) of every version."""
    states: dict[tuple[str, str], tuple[str, bool, str | None]] = {}
    key_marker, version_marker = "", ""
    while True:
        page = retry(
            lambda km=key_marker, vm=version_marker: bucket.list_object_versions(  # type: ignore[misc]
                key_marker=km, versionid_marker=vm, max_keys=1000
            )
        )
        for v in page.versions:  # type: ignore[attr-defined]
            head = retry(lambda v=v: bucket.head_object(v.key, params={"versionId": v.versionid}))  # type: ignore[misc]
            states[(v.key, v.versionid)] = (v.etag, False, head.headers.get("x-oss-meta-op"))  # type: ignore[attr-defined]
        for m in page.delete_marker:  # type: ignore[attr-defined]
            states[(m.key, m.versionid)] = ("", True, None)
        if not page.is_truncated:  # type: ignore[attr-defined]
            return states
        key_marker, version_marker = page.next_key_marker, page.next_versionid_marker  # type: ignore[attr-defined]


def test_kill_during_versioned_workload_with_multipart(lone_cluster: FerryCluster) -> None:
    """Versioned buckets, puts with metadata, multipart uploads and delete markers: every version
    (id, ETag, metadata) and every marker of the source is at the destination, nothing more."""
    seed = int(os.environ.get("FERRY_FAULT_SEED", str(random.randrange(1 << 30))))
    print(f"fault seed {seed}, {KILL_CYCLES} kill cycles (versioned, multipart)")
    rng = random.Random(seed)
    src = lone_cluster.oss2_bucket(unique_bucket("vfault-src"), region=SRC)
    dst = lone_cluster.oss2_bucket(unique_bucket("vfault-dst"), region=DST)
    for bucket in (src, dst):
        bucket.create_bucket()
        bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    src.put_bucket_replication(
        ReplicationRule(target_bucket_name=dst.bucket_name, target_bucket_location=DST)
    )

    latest: dict[str, str] = {}  # key -> x-oss-meta-op of its current version (absent: deleted)
    keys = [f"v/{i:02d}" for i in range(16)]
    killer = Killer(lone_cluster, KILL_CYCLES, seed)
    killer.start()
    ops = multiparts = 0
    while not killer.done.is_set() or ops < 50:
        key = rng.choice(keys)
        meta = {"x-oss-meta-op": str(ops)}
        draw = rng.random()
        if draw < 0.2:
            retry(lambda k=key: src.delete_object(k))  # type: ignore[misc]
            latest.pop(key, None)
        elif draw < 0.3:
            _multipart_put(src, key, os.urandom(PART + rng.randint(1, 32 * 1024)), meta)
            latest[key] = meta["x-oss-meta-op"]
            multiparts += 1
        else:
            body = os.urandom(rng.randint(0, 16 * 1024))
            retry(lambda k=key, b=body, h=meta: src.put_object(k, b, headers=h))  # type: ignore[misc]
            latest[key] = meta["x-oss-meta-op"]
        ops += 1
    killer.join()
    assert killer.error is None, killer.error
    print(f"{ops} operations, {multiparts} multipart uploads")

    source = _version_states(src)
    current = {
        key: str(retry(lambda k=key: src.head_object(k)).headers.get("x-oss-meta-op"))  # type: ignore[misc, attr-defined]
        for key in latest
    }
    assert current == latest  # the source holds what its client was told
    wait_until(lambda: _version_states(dst) == source, timeout=120, what="every version at the destination")
