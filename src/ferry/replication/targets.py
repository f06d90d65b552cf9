"""Where a replicated change goes: the port the executor talks to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from ferry.core.encryption import SseAlgorithm
from ferry.core.model import ChangeKind, ObjectVersion
from ferry.storage.interfaces import ReplicaWrite


class TargetError(Exception):
    """The destination refused or could not take the change; the task is retried."""


@dataclass(frozen=True)
class ReplicaSource:
    """A source version to replicate, and how to read its bytes as they were written."""

    version: ObjectVersion
    open_plaintext: Callable[[int], BinaryIO] | None
    """Opens the plaintext at an offset (big objects go in parts); None for an empty object."""
    encryption: tuple[SseAlgorithm, str | None] | None = None
    """How the replica is to be encrypted at the destination (algorithm, KMS key id or default)."""


class ReplicationTarget(Protocol):
    def put(self, dest_bucket: str, source: ReplicaSource, origin: ReplicaWrite) -> None:
        """Make the version exist at the destination, unless a later change is there already."""
        ...

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None: ...


@runtime_checkable
class BatchTarget(ReplicationTarget, Protocol):
    """A target that takes many small versions in one call (a cross-region destination)."""

    batch_object_limit: int
    """The largest version it takes in a batch (bigger ones go through :meth:`put`)."""

    def put_batch(
        self, dest_bucket: str, items: Sequence[tuple[ReplicaSource, ReplicaWrite]]
    ) -> list[TargetError | None]:
        """Each version as :meth:`put` would; per item, None or why it did not arrive
        (an error of the whole call is raised)."""
        ...
