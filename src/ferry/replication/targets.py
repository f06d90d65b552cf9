"""Where a replicated change goes: the port the executor talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ferry.core.model import ChangeKind, ObjectVersion
from ferry.storage.interfaces import ReplicaWrite


class TargetError(Exception):
    """The destination refused or could not take the change; the task is retried."""


class ReplicationTarget(Protocol):
    def put(self, dest_bucket: str, version: ObjectVersion, data: Path | None, origin: ReplicaWrite) -> None:
        """Make ``version`` (bytes in ``data``) exist at the destination, unless a later change is there."""
        ...

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None: ...
