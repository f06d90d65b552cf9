"""Tunables of the replication engine (``[replication]`` in the config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    workers: int = 8
    rtc_workers: int = 4
    """Workers of the RTC lane: they take only tasks of RTC-enabled rules, so a backfill or a burst
    of ordinary work never stands in front of them (0: no lane of their own, RTC first in one queue)."""
    rtc_quiet_seconds: float = 1.0
    """After the last RTC task, how long general work stays throttled (to an eighth of its workers)."""
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 0.25
    housekeeping_seconds: float = 0.2
    rule_settle_seconds: float = 1.0
    """How long a new rule stays ``starting`` (and a deleted one ``closing``) before the engine acts."""
    backfill_batches_per_tick: int = 4
    rtc_threshold_seconds: float = 600.0
    """RTC's promise: 99.99% of the objects of an hour replicated within this (OSS: 10 minutes)."""
    lag_retention_seconds: float = 7200.0
    """How long per-object lag records are kept (at least the hour RTC and the console look at)."""
    multipart_threshold_bytes: int = 64 * 1024 * 1024
    """CRR sends a bigger object as a multipart upload at the destination (parts resume on retry)."""
    multipart_part_bytes: int = 16 * 1024 * 1024
    """The part size of those uploads (raised so an object needs at most 1,000 parts)."""
    stale_upload_seconds: float = 86400.0
    """A replica upload left this long (its change superseded, its rule deleted) is aborted."""
