"""Carry out one replication task: read the source as it is now, hand it to the target.

Idempotent: the destination applies a change only if nothing later from the
same source is there, so a task retried after a crash or a lost ack is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import BinaryIO, cast

from ferry.core.encryption import SseAlgorithm
from ferry.core.model import ChangeKind, ObjectVersion
from ferry.core.replication_rules import ReplicationRule
from ferry.core.replication_task import ReplicationTask
from ferry.replication.targets import BatchTarget, ReplicaSource, ReplicationTarget, TargetError
from ferry.service.kms import DecryptingFile, KeyService
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
        kms: KeyService,
        target_for: Callable[[ReplicationRule], ReplicationTarget],
        later_change: Callable[[ReplicationTask], bool] | None = None,
    ) -> None:
        self._region = region
        self._store = store
        self._rules = rules
        self._blobs = blobs
        self._kms = kms
        self._target_for = target_for
        self._later_change = later_change

    def _opener(self, version: ObjectVersion) -> Callable[[int], BinaryIO] | None:
        if not version.blob_id:
            return None
        blob_id = version.blob_id
        info = version.encryption
        data_key = self._kms.data_key(info) if info is not None else b""

        def open_at(offset: int) -> BinaryIO:
            stored = self._blobs.open(blob_id)
            try:
                if offset:
                    stored.seek(offset)
            except BaseException:
                stored.close()
                raise
            if info is None:
                return stored
            # AES-CTR: the key stream is positioned at the offset, so any range decrypts alone.
            return cast(BinaryIO, DecryptingFile(stored, data_key, info, offset))

        return open_at

    def execute(self, task: ReplicationTask) -> int | None:
        """Bytes sent; None when there was nothing to send (the rule is gone, or a later change
        of the key superseded this one: that change carries its own task and its own lag).
        Raises when the destination did not take the change (the caller retries)."""
        rule = self._rules.get_rule(task.bucket, task.rule_id)
        if rule is None:
            return None  # the rule is gone: nothing more to replicate for it
        if task.kind is ChangeKind.PUT and self._superseded(task):
            return None
        target = self._target_for(rule)
        source = f"{self._region}/{task.bucket}"
        if task.kind is ChangeKind.PUT:
            version = self._store.get_version(task.bucket, task.key, task.version_id)
            if version is None or version.is_delete_marker:
                return None  # superseded: a later change of the key carries its own task
            replica = ReplicaSource(version, self._opener(version), _replica_encryption(version, rule))
            target.put(rule.dest_bucket, replica, ReplicaWrite(source, task.source_seq, version.seq))
            return version.size
        if task.kind is ChangeKind.DELETE_MARKER:
            marker = self._store.get_version(task.bucket, task.key, task.version_id)
            if marker is None or not marker.is_delete_marker:
                return None  # the marker itself was removed (or overwritten): that change has its own task
        # A delete marker's task carries the marker's creation number; other deletes need none.
        origin = ReplicaWrite(source, task.source_seq, task.source_seq)
        target.delete(rule.dest_bucket, task.key, task.kind, task.version_id, origin)
        return 0

    def _superseded(self, task: ReplicationTask) -> bool:
        return self._later_change is not None and self._later_change(task)

    def execute_batch(self, tasks: Sequence[ReplicationTask]) -> list[int | Exception | None]:
        """Per task, what :meth:`execute` returns or raises.  Small plain PUTs bound for a target
        that takes batches travel together, one call per rule; the rest one by one."""
        outcomes: list[int | Exception | None] = [None] * len(tasks)
        groups: dict[tuple[str, str], list[tuple[int, ReplicaSource, ReplicaWrite]]] = {}
        targets: dict[tuple[str, str], tuple[BatchTarget, str]] = {}
        rules: dict[tuple[str, str], tuple[ReplicationRule, BatchTarget | None] | None] = {}
        for i, task in enumerate(tasks):
            try:
                batchable = self._batchable(task, rules)
                if batchable is None:
                    outcomes[i] = self.execute(task)
                    continue
                target, dest_bucket, source, origin = batchable
            except Exception as exc:
                outcomes[i] = exc
                continue
            group = (task.bucket, task.rule_id)
            targets[group] = (target, dest_bucket)
            groups.setdefault(group, []).append((i, source, origin))
        for group, members in groups.items():
            target, dest_bucket = targets[group]
            try:
                errors: list[TargetError | None] = target.put_batch(
                    dest_bucket, [(source, origin) for _, source, origin in members]
                )
            except Exception as exc:
                errors = [TargetError(str(exc)) if not isinstance(exc, TargetError) else exc] * len(members)
            for (i, source, _), error in zip(members, errors, strict=True):
                outcomes[i] = error if error is not None else source.version.size
        return outcomes

    def _batchable(
        self,
        task: ReplicationTask,
        rules: dict[tuple[str, str], tuple[ReplicationRule, BatchTarget | None] | None],
    ) -> tuple[BatchTarget, str, ReplicaSource, ReplicaWrite] | None:
        """The target, destination bucket, source and origin of a task that may go in a batch
        (``rules``: the rules and targets this batch looked up already)."""
        if task.kind is not ChangeKind.PUT or self._superseded(task):
            return None  # execute() sends it alone, or finds it has nothing to send
        group = (task.bucket, task.rule_id)
        if group not in rules:
            found = self._rules.get_rule(task.bucket, task.rule_id)
            if found is None:
                rules[group] = None
            else:
                any_target = self._target_for(found)
                rules[group] = (found, any_target if isinstance(any_target, BatchTarget) else None)
        known = rules[group]
        if known is None:
            return None
        rule, target = known
        if target is None:
            return None
        version = self._store.get_version(task.bucket, task.key, task.version_id)
        if version is None or version.is_delete_marker or version.size > target.batch_object_limit:
            return None
        if _replica_encryption(version, rule) is not None:
            return None
        source = ReplicaSource(version, self._opener(version), None)
        return (
            target,
            rule.dest_bucket,
            source,
            ReplicaWrite(f"{self._region}/{task.bucket}", task.source_seq, version.seq),
        )


def _replica_encryption(
    version: ObjectVersion, rule: ReplicationRule
) -> tuple[SseAlgorithm, str | None] | None:
    """Encrypted sources stay encrypted: SSE-KMS under the rule's ReplicaKmsKeyID (or the
    destination's default key), AES256 under the destination's managed key."""
    if version.encryption is None:
        return None
    if version.encryption.algorithm is SseAlgorithm.KMS:
        return SseAlgorithm.KMS, rule.replica_kms_key_id
    return SseAlgorithm.AES256, None
