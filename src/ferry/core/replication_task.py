"""A unit of replication work as the durable queue stores it."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from ferry.core.model import ChangeKind


class TaskState(enum.StrEnum):
    PENDING = "pending"
    FAILED = "failed"
    """Retried still (at the capped interval) and visible to operators; never dropped."""


@dataclass(frozen=True)
class ReplicationTask:
    id: int
    bucket: str
    rule_id: str
    key: str
    version_id: str
    source_seq: int
    kind: ChangeKind
    historical: bool
    rtc: bool
    created_at: float
    state: TaskState
    attempts: int
    last_error: str


@dataclass(frozen=True)
class Repair:
    """A change to send again because verification found the destination without it."""

    key: str
    version_id: str
    kind: ChangeKind
    seq: int = 0
    """The source version's creation number (used for delete markers, which it orders)."""


BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 30.0
FAILED_AFTER_ATTEMPTS = 5


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with full jitter (attempts counts failures so far, from 1)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)
