"""Carry out one replication task: read the source as it is now, hand it to the target.

Idempotent: the destination applies a change only if nothing later from the
same source is there, so a task retried after a crash or a lost ack is harmless.
"""

from __future__ import annotations

from collections.abc import Callable

from ferry.core.model import ChangeKind
from ferry.core.replication_rules import ReplicationRule
from ferry.core.replication_task import ReplicationTask
from ferry.replication.targets import ReplicationTarget
from ferry.storage.blobs import BlobStore
from ferry.storage.interfaces import MetadataStore, ReplicaWrite
from ferry.storage.sqlite_replication import SqliteReplicationStore


class TaskExecutor:
    def __init__(
        self,
        region: str,
        store: MetadataStore,
        rules: SqliteReplicationStore,
        blobs: BlobStore,
        target_for: Callable[[ReplicationRule], ReplicationTarget],
    ) -> None:
        self._region = region
        self._store = store
        self._rules = rules
        self._blobs = blobs
        self._target_for = target_for

    def execute(self, task: ReplicationTask) -> None:
        """Raises when the destination did not take the change (the caller retries)."""
        rule = self._rules.get_rule(task.bucket, task.rule_id)
        if rule is None:
            return  # the rule is gone: nothing more to replicate for it
        target = self._target_for(rule)
        source = f"{self._region}/{task.bucket}"
        if task.kind is ChangeKind.PUT:
            version = self._store.get_version(task.bucket, task.key, task.version_id)
            if version is None or version.is_delete_marker:
                return  # superseded: a later change of the key carries its own task
            data = self._blobs.path(version.blob_id) if version.blob_id else None
            target.put(rule.dest_bucket, version, data, ReplicaWrite(source, task.source_seq, version.seq))
            return
        if task.kind is ChangeKind.DELETE_MARKER:
            marker = self._store.get_version(task.bucket, task.key, task.version_id)
            if marker is None or not marker.is_delete_marker:
                return  # the marker itself was removed (or overwritten): that change has its own task
        # A delete marker's task carries the marker's creation number; other deletes need none.
        origin = ReplicaWrite(source, task.source_seq, task.source_seq)
        target.delete(rule.dest_bucket, task.key, task.kind, task.version_id, origin)
