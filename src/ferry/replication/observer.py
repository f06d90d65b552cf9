"""What the engine tells the outside about finished work: the seam metrics hang on.

The engine calls these from its event loop after a task ran; an implementation
must be cheap (a counter increment, a histogram observation) and never raise.
"""

from __future__ import annotations

from typing import Protocol

from ferry.core.replication_task import ReplicationTask


class ReplicationObserver(Protocol):
    def replicated(self, task: ReplicationTask, nbytes: int, lag_seconds: float | None) -> None:
        """The destination has the change; ``lag_seconds`` from the source commit (None: historical)."""
        ...

    def failed(self, task: ReplicationTask) -> None:
        """One attempt failed; the task is retried later."""
        ...


class NoObserver:
    def replicated(self, task: ReplicationTask, nbytes: int, lag_seconds: float | None) -> None:
        return None

    def failed(self, task: ReplicationTask) -> None:
        return None
