"""The composition root of one region process: stores, services, executor."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ferry.client.oss_client import ConnectionPool, OssClient
from ferry.client.replica_target import RemoteTarget
from ferry.config import FerryConfig, RegionConfig
from ferry.core.clock import Clock, SystemClock
from ferry.core.identity import ReplicaActor
from ferry.core.replication_rules import ReplicationRule
from ferry.credentials import load_iam_master_key, load_root_account, load_service_key
from ferry.iam.authorizer import RequestScope, service_scope
from ferry.iam.records import DEFAULT_ACCOUNT_NAME
from ferry.iam.view import BootstrapKey
from ferry.observability.metrics import FerryMetrics
from ferry.observability.replication_collector import ReplicationCollector
from ferry.replication.acting_target import ActingTarget
from ferry.replication.directory import RegionDirectory
from ferry.replication.engine import ReplicationEngine
from ferry.replication.executor import TaskExecutor
from ferry.replication.local_target import LocalTarget
from ferry.replication.progress import DurableProgress
from ferry.replication.report import ReplicationReporter
from ferry.replication.targets import ReplicationTarget, TargetError
from ferry.service.access_log import AccessLog
from ferry.service.appends import AppendService
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.buckets import BucketService
from ferry.service.iam_directory import IamDirectory
from ferry.service.kms import KeyService
from ferry.service.lifecycle_sweep import LifecycleSweeper
from ferry.service.multipart import MultipartService
from ferry.service.objects import ObjectService
from ferry.service.periodic import PeriodicWorker
from ferry.service.replica_uploads import ReplicaUploads
from ferry.service.replicas import ReplicaService
from ferry.service.replication_admin import ReplicationAdmin
from ferry.service.restores import RestoreService
from ferry.service.retention import RetentionGuard
from ferry.service.symlinks import SymlinkService
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.inline_blobs import InlineBlobReader
from ferry.storage.interfaces import AccessKey
from ferry.storage.sqlite_configs import SqliteConfigStore
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_iam import SqliteIamStore
from ferry.storage.sqlite_lag import SqliteLagLog
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_multipart import SqliteMultipartStore
from ferry.storage.sqlite_replication import SqliteReplicationStore
from ferry.storage.sqlite_restores import SqliteRestores
from ferry.storage.sqlite_tasks import SqliteTaskQueue
from ferry.storage.sqlite_usage import SqliteUsage


def _nothing_queued() -> None:
    """The retention guard queues no work: it only refuses changes."""


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
    iam: IamDirectory
    clock: Clock
    executor: ThreadPoolExecutor
    uploads: SqliteMultipartStore
    multipart: MultipartService
    replica_uploads: ReplicaUploads
    replica_upload_sweep: PeriodicWorker
    appends: AppendService
    symlinks: SymlinkService
    restores: RestoreService
    configs: BucketConfigService
    lifecycle: PeriodicWorker
    access_log: AccessLog
    access_log_writer: PeriodicWorker
    usage: SqliteUsage
    retention: RetentionGuard
    metrics: FerryMetrics
    reporter: ReplicationReporter

    @classmethod
    def build(cls, ferry: FerryConfig, region_name: str, clock: Clock | None = None) -> RegionRuntime:
        config = ferry.region(region_name)
        clock = clock or SystemClock()
        store = SqliteMetadataStore(config.data_dir / "meta.sqlite3")
        blobs = DiskBlobStore(config.data_dir, InlineBlobReader(store.db))
        rules = SqliteReplicationStore(store.db)
        # Claims and acks need no fsync: losing one to a power cut only repeats idempotent work.
        queue = SqliteTaskQueue(SqliteDatabase(store.db.path, durable=False))
        service_key = load_service_key(ferry.data_dir)
        root = load_root_account(ferry.data_dir).key
        iam_store = SqliteIamStore(store.db)
        iam_store.purge_plaintext_keys([root.access_key_id, service_key.access_key_id])
        iam = IamDirectory(
            iam_store,
            load_iam_master_key(ferry.data_dir),
            bootstrap=[
                BootstrapKey(root.access_key_id, root.secret, root.account_id),
                BootstrapKey(service_key.access_key_id, service_key.secret, service_key.account_id),
            ],
        )
        iam.ensure_account(root.account_id, DEFAULT_ACCOUNT_NAME, clock.now())

        def replication_scope() -> RequestScope:
            return service_scope(config.name, clock.now())

        directory = RegionDirectory(
            config.name,
            ferry,
            store.get_bucket,
            rules,
            service_key,
            role_check=lambda actor, bucket, keys: iam.replica_may_write(
                actor, bucket, keys, replication_scope()
            ),
        )
        admin = ReplicationAdmin(
            config.name, ferry.catalog(), rules, directory, DurableProgress(rules, clock), clock
        )
        replicas = ReplicaService(store, blobs, clock)
        kms = KeyService(config.data_dir)
        local = LocalTarget(store.get_bucket, blobs, replicas, kms)
        connections = ConnectionPool()

        def actor_for(rule: ReplicationRule) -> Callable[[str], ReplicaActor]:
            def actor(source_bucket: str) -> ReplicaActor:
                bucket = store.get_bucket(source_bucket)
                if bucket is None:
                    raise TargetError(f"NoSuchBucket: the source bucket {source_bucket} is gone")
                return ReplicaActor(bucket.owner_id, rule.sync_role)

            return actor

        def target_for(rule: ReplicationRule) -> ReplicationTarget:
            if rule.dest_location == config.name:
                return ActingTarget(
                    local,
                    actor_for(rule),
                    store.get_bucket,
                    lambda actor, op, bucket, key: iam.authorize_replica(
                        actor, op, bucket, key, replication_scope()
                    ),
                )
            dest = ferry.region(rule.dest_location)
            client = OssClient(dest.endpoint, service_key, dest.name, pool=connections)
            return RemoteTarget(
                client,
                actor_for(rule),
                multipart_threshold=ferry.engine.multipart_threshold_bytes,
                part_size=ferry.engine.multipart_part_bytes,
            )

        executor = TaskExecutor(
            config.name, store, rules, blobs, kms, target_for, later_change=queue.has_later_change
        )
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
        uploads = SqliteMultipartStore(store.db)
        multipart = MultipartService(store, uploads, blobs, kms, clock)
        replica_uploads = ReplicaUploads(uploads, multipart, replicas, blobs, clock)
        stale_after = ferry.engine.stale_upload_seconds
        buckets = BucketService(store, config.name, clock)
        objects = ObjectService(store, blobs, clock)
        configs = BucketConfigService(SqliteConfigStore(store.db), clock)
        executor_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix=f"ferry-{config.name}")
        sweeper = LifecycleSweeper(store, configs, buckets.find, objects, clock)
        retention = RetentionGuard(configs, store, clock)
        access_log = AccessLog(configs, buckets.find, objects, blobs)
        store.add_change_hook(retention.on_change, _nothing_queued)
        reporter = ReplicationReporter(config.name, store.db, clock, ferry.engine)
        metrics.add_collector(ReplicationCollector(reporter, clock, engine.lane_depths))
        return cls(
            ferry=ferry,
            config=config,
            store=store,
            blobs=blobs,
            buckets=buckets,
            objects=objects,
            rules=rules,
            queue=queue,
            replication=admin,
            replicas=replicas,
            engine=engine,
            kms=kms,
            service_key=service_key,
            iam=iam,
            clock=clock,
            uploads=uploads,
            multipart=multipart,
            replica_uploads=replica_uploads,
            # Replica uploads whose change will never complete (a rule deleted mid-upload).
            replica_upload_sweep=PeriodicWorker(
                "replica-uploads",
                lambda: replica_uploads.sweep(clock.now() - stale_after),
                executor_pool,
                min(3600.0, stale_after / 4) if stale_after > 0 else 0.0,
            ),
            appends=AppendService(store, blobs, kms, clock),
            symlinks=SymlinkService(store, blobs, clock),
            restores=RestoreService(SqliteRestores(store.db), ferry.restore, clock),
            executor=executor_pool,
            configs=configs,
            lifecycle=PeriodicWorker(
                "lifecycle", sweeper.run_once, executor_pool, ferry.lifecycle.interval_seconds
            ),
            usage=SqliteUsage(store.db),
            access_log=access_log,
            access_log_writer=PeriodicWorker(
                "access-log", access_log.flush, executor_pool, ferry.access_log.flush_seconds
            ),
            retention=retention,
            metrics=metrics,
            reporter=reporter,
        )

    async def start(self) -> None:
        """Start background work (replication workers) once the server is up."""
        await self.engine.start()
        self.lifecycle.start()
        self.access_log_writer.start()
        self.replica_upload_sweep.start()

    async def stop(self) -> None:
        await self.lifecycle.stop()
        await self.replica_upload_sweep.stop()
        await self.access_log_writer.stop()
        await self.access_log_writer.run_now()  # what is still buffered
        await self.engine.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
