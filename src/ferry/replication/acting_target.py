"""Same-region replication, authorized the way another region authorizes a replicated write.

The destination bucket may belong to another account (cross-account SRR): then the write is
checked against the rule's SyncRole (see :func:`ferry.iam.authorizer.authorize_replica_write`)
before the local target applies it; a refusal fails the task, visibly, and it is retried.
"""

from __future__ import annotations

from collections.abc import Callable

from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import Bucket, ChangeKind
from ferry.core.operations import Operation
from ferry.replication.targets import ReplicaSource, ReplicationTarget, TargetError
from ferry.storage.interfaces import ReplicaWrite

ReplicaAuthorizer = Callable[[ReplicaActor, Operation, Bucket, str], None]


def source_bucket_of(origin: ReplicaWrite) -> str:
    """``<region>/<bucket>`` -> ``<bucket>``."""
    return origin.source.partition("/")[2]


class ActingTarget:
    def __init__(
        self,
        inner: ReplicationTarget,
        actor_of: Callable[[str], ReplicaActor],
        find_bucket: Callable[[str], Bucket | None],
        authorize: ReplicaAuthorizer,
    ) -> None:
        self._inner = inner
        self._actor_of = actor_of
        self._find_bucket = find_bucket
        self._authorize = authorize

    def _check(self, origin: ReplicaWrite, dest_bucket: str, key: str, op: Operation) -> None:
        bucket = self._find_bucket(dest_bucket)
        if bucket is None:
            raise TargetError(f"NoSuchBucket: the destination bucket {dest_bucket} does not exist")
        actor = self._actor_of(source_bucket_of(origin))
        try:
            self._authorize(actor, op, bucket, key)
        except OssError as exc:
            raise TargetError(f"{exc.code}: {exc.message}") from exc

    def put(self, dest_bucket: str, source: ReplicaSource, origin: ReplicaWrite) -> None:
        self._check(origin, dest_bucket, source.version.key, Operation.PutObject)
        self._inner.put(dest_bucket, source, origin)

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None:
        self._check(origin, dest_bucket, key, Operation.DeleteObject)
        self._inner.delete(dest_bucket, key, kind, version_id, origin)
