"""Property: whatever order replication tasks are executed in, retried or duplicated,
the destination ends in the same state as the source.

One region, same-region replication from bucket ``src`` to ``dst`` through the
real outbox hook, task queue, executor, local target and replica store; only
the scheduling is taken over by hypothesis.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.core.clock import ManualClock
from ferry.core.model import Bucket, ObjectAcl, StagedBlob, Versioning
from ferry.core.replication_rules import ReplicationRule, RuleStatus
from ferry.replication.executor import TaskExecutor
from ferry.replication.local_target import LocalTarget
from ferry.service.kms import KeyService
from ferry.service.objects import ObjectAttrs, ObjectService
from ferry.service.replicas import ReplicaService
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_replication import SqliteReplicationStore
from ferry.storage.sqlite_tasks import SqliteTaskQueue, _task

KEYS = ("a", "b", "c")
OWNER = "owner"

op = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.binary(max_size=8)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS), st.just(b"")),
    st.tuples(st.just("delete_version"), st.sampled_from(KEYS), st.just(b"")),
    st.tuples(st.just("acl"), st.sampled_from(KEYS), st.just(b"")),
    st.tuples(st.just("deliver"), st.just(""), st.just(b"")),
)


class World:
    def __init__(self, root: Path, versioning: Versioning, skip_superseded: bool = True) -> None:
        self.clock = ManualClock()
        self.store = SqliteMetadataStore(root / "meta.sqlite3", durable=False)
        self.blobs = DiskBlobStore(root)
        self.rules = SqliteReplicationStore(self.store.db)
        self.queue = SqliteTaskQueue(self.store.db)
        self.store.add_change_hook(self.queue.on_change, lambda: None)
        self.objects = ObjectService(self.store, self.blobs, self.clock)
        for name in ("src", "dst"):
            self.store.create_bucket(Bucket(name, OWNER, "r1", 0.0, versioning=versioning))
        kms = KeyService(root)
        replicas = ReplicaService(self.store, self.blobs, self.clock)
        target = LocalTarget(self.store.get_bucket, self.blobs, replicas, kms)
        self.executor = TaskExecutor(
            "r1",
            self.store,
            self.rules,
            self.blobs,
            kms,
            lambda rule: target,
            later_change=self.queue.has_later_change if skip_superseded else None,
        )

    def bucket(self, name: str) -> Bucket:
        bucket = self.store.get_bucket(name)
        assert bucket is not None
        return bucket

    def put(self, key: str, data: bytes) -> None:
        writer = self.blobs.open_writer()
        writer.write(data)
        staged: StagedBlob = writer.finish()
        self.objects.put(self.bucket("src"), key, staged, ObjectAttrs(), owner_id=OWNER)
        self.clock.advance(1)

    def add_rule(self) -> ReplicationRule:
        rule = ReplicationRule(rule_id="r", dest_bucket="dst", dest_location="r1", status=RuleStatus.STARTING)
        self.rules.add_rule("src", rule, self.clock.now())
        self.queue.take_rule("src", rule, self.clock.now())
        return rule

    def pending(self) -> list[object]:
        rows = self.store.db.conn().execute("SELECT * FROM replication_tasks").fetchall()
        return [_task(r) for r in rows]

    def deliver(self, rng: random.Random, everything: bool) -> None:
        tasks = self.pending()
        rng.shuffle(tasks)
        chosen = tasks if everything else tasks[: rng.randint(0, len(tasks))]
        for task in chosen:
            self.executor.execute(task)  # type: ignore[arg-type]
            if rng.random() < 0.2:
                self.executor.execute(task)  # type: ignore[arg-type]  # a duplicate delivery
            if everything or rng.random() < 0.8:  # otherwise the ack is "lost": retried later
                self.queue.ack(task)  # type: ignore[arg-type]

    def state(self, bucket: str, versioned: bool) -> object:
        db: sqlite3.Connection = self.store.db.conn()
        rows = db.execute(
            "SELECT key, version_id, is_latest, is_delete_marker, etag, acl FROM versions WHERE bucket = ?",
            (bucket,),
        ).fetchall()
        if versioned:
            return sorted(
                (r["key"], r["version_id"], r["is_latest"], r["is_delete_marker"], r["etag"], r["acl"])
                for r in rows
            )
        return sorted(
            (r["key"], r["etag"], r["acl"]) for r in rows if r["is_latest"] and not r["is_delete_marker"]
        )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    versioned=st.booleans(),
    skip_superseded=st.booleans(),
    before=st.lists(st.tuples(st.sampled_from(KEYS), st.binary(max_size=8)), max_size=4),
    ops=st.lists(op, max_size=25),
    seed=st.integers(0, 2**32),
)
def test_destination_converges_to_source(
    versioned: bool,
    skip_superseded: bool,
    before: list[tuple[str, bytes]],
    ops: list[tuple[str, str, bytes]],
    seed: int,
) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp), Versioning.ENABLED if versioned else Versioning.OFF, skip_superseded)
        for key, data in before:  # historical objects
            world.put(key, data)
        rule = world.add_rule()
        while world.queue.backfill_step("src", rule, world.clock.now(), batch=2)[1]:
            pass
        for kind, key, data in ops:
            src = world.bucket("src")
            if kind == "put":
                world.put(key, data)
            elif kind == "delete":
                world.objects.delete(src, key, None)
            elif kind == "delete_version":
                ids = [
                    r["version_id"]
                    for r in world.store.db.conn().execute(
                        "SELECT version_id FROM versions WHERE bucket = 'src' AND key = ?", (key,)
                    )
                ]
                if ids:
                    world.objects.delete(src, key, rng.choice(ids))
            elif kind == "acl":
                current = world.store.get_version("src", key, None)
                if current is not None and not current.is_delete_marker:
                    world.objects.set_acl(src, key, None, rng.choice(list(ObjectAcl)))
            else:
                world.deliver(rng, everything=False)
            world.clock.advance(1)
        while world.pending():
            world.deliver(rng, everything=True)
        assert world.state("dst", versioned) == world.state("src", versioned)
