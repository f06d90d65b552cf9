"""The composition root of one region process: stores, services, executor."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ferry.client.oss_client import ConnectionPool, OssClient
from ferry.client.replica_target import RemoteTarget
from ferry.config import FerryConfig, RegionConfig
from ferry.core.clock import Clock, SystemClock
from ferry.core.replication_rules import ReplicationRule
from ferry.credentials import load_service_key
from ferry.observability.metrics import FerryMetrics
from ferry.observability.replication_collector import ReplicationCollector
from ferry.replication.directory import RegionDirectory
from ferry.replication.engine import ReplicationEngine
from ferry.replication.executor import TaskExecutor
from ferry.replication.local_target import LocalTarget
from ferry.replication.progress import DurableProgress
from ferry.replication.report import ReplicationReporter
from ferry.replication.targets import ReplicationTarget
from ferry.service.buckets import BucketService
from ferry.service.kms import KeyService
from ferry.service.objects import ObjectService
from ferry.service.replicas import ReplicaService
from ferry.service.replication_admin import ReplicationAdmin
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.interfaces import AccessKey
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_lag import SqliteLagLog
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_replication import SqliteReplicationStore
from ferry.storage.sqlite_tasks import SqliteTaskQueue

_KEY_CACHE_SECONDS = 5.0
"""How long a looked-up key is trusted before the store is asked again (revocation delay)."""


@dataclass
class _CachedKey:
    key: AccessKey | None
    until: float


@dataclass
class RegionRuntime:
    ferry: FerryConfig
    config: RegionConfig
    store: SqliteMetadataStore
    blobs: DiskBlobStore
    buckets: BucketService
    objects: ObjectService
    rules: SqliteReplicationStore
    queue: SqliteTaskQueue
    replication: ReplicationAdmin
    replicas: ReplicaService
    engine: ReplicationEngine
    kms: KeyService
    service_key: AccessKey
    clock: Clock
    executor: ThreadPoolExecutor
    metrics: FerryMetrics
    reporter: ReplicationReporter
    _keys: dict[str, _CachedKey] = field(default_factory=dict)

    @classmethod
    def build(cls, ferry: FerryConfig, region_name: str, clock: Clock | None = None) -> RegionRuntime:
        config = ferry.region(region_name)
        clock = clock or SystemClock()
        store = SqliteMetadataStore(config.data_dir / "meta.sqlite3")
        blobs = DiskBlobStore(config.data_dir)
        rules = SqliteReplicationStore(store.db)
        # Claims and acks need no fsync: losing one to a power cut only repeats idempotent work.
        queue = SqliteTaskQueue(SqliteDatabase(store.db.path, synchronous="NORMAL"))
        service_key = load_service_key(ferry.data_dir)
        directory = RegionDirectory(config.name, ferry, store.get_bucket, rules, service_key)
        admin = ReplicationAdmin(
            config.name, ferry.catalog(), rules, directory, DurableProgress(rules, clock), clock
        )
        replicas = ReplicaService(store, blobs, clock)
        kms = KeyService(config.data_dir)
        local = LocalTarget(store.get_bucket, blobs, replicas, kms)
        connections = ConnectionPool()

        def target_for(rule: ReplicationRule) -> ReplicationTarget:
            if rule.dest_location == config.name:
                return local
            dest = ferry.region(rule.dest_location)
            return RemoteTarget(OssClient(dest.endpoint, service_key, dest.name, pool=connections))

        executor = TaskExecutor(config.name, store, rules, blobs, kms, target_for)
        metrics = FerryMetrics()
        engine = ReplicationEngine(
            config.name,
            rules,
            queue,
            executor,
            directory,
            clock,
            ferry.engine,
            observer=metrics,
            lag_log=SqliteLagLog(queue.db),
        )
        store.add_change_hook(queue.on_change, engine.wake)
        reporter = ReplicationReporter(config.name, store.db, clock, ferry.engine)
        metrics.add_collector(ReplicationCollector(reporter, clock, engine.lane_depths))
        return cls(
            ferry=ferry,
            config=config,
            store=store,
            blobs=blobs,
            buckets=BucketService(store, config.name, clock),
            objects=ObjectService(store, blobs, clock),
            rules=rules,
            queue=queue,
            replication=admin,
            replicas=replicas,
            engine=engine,
            kms=kms,
            service_key=service_key,
            clock=clock,
            executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix=f"ferry-{config.name}"),
            metrics=metrics,
            reporter=reporter,
        )

    def access_key(self, access_key_id: str) -> AccessKey | None:
        now = time.monotonic()
        cached = self._keys.get(access_key_id)
        if cached is None or cached.until < now:
            cached = _CachedKey(self.store.get_access_key(access_key_id), now + _KEY_CACHE_SECONDS)
            self._keys[access_key_id] = cached
        return cached.key

    def secret_of(self, access_key_id: str) -> str | None:
        key = self.access_key(access_key_id)
        return key.secret if key else None

    async def start(self) -> None:
        """Start background work (replication workers) once the server is up."""
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
