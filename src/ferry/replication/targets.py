"""Where a replicated change goes: the port the executor talks to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

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
