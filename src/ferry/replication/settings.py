"""Tunables of the replication engine (``[replication]`` in the config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    workers: int = 8
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 0.25
    housekeeping_seconds: float = 0.2
    rule_settle_seconds: float = 1.0
    """How long a new rule stays ``starting`` (and a deleted one ``closing``) before the engine acts."""
    backfill_batches_per_tick: int = 4
