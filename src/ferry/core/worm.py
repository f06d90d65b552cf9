"""Retention (WORM, write once read many): a bucket's policy and what it protects.

A policy is ``InProgress`` from InitiateBucketWorm for 24 hours (it lapses unless
completed) and ``Locked`` for good after CompleteBucketWorm; its retention period
can only grow (ExtendBucketWorm).  While a policy is in force, no object version
younger than the retention period may be deleted or overwritten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import ClassVar

from ferry.core.errors import OssError

DAY = 86400.0
IN_PROGRESS_SECONDS = DAY
MAX_RETENTION_DAYS = 25550  # 70 years, OSS's limit
IN_PROGRESS, LOCKED = "InProgress", "Locked"


@dataclass(frozen=True)
class WormConfiguration:
    KIND: ClassVar[str] = "worm"
    worm_id: str
    state: str
    retention_days: int
    created_at: float


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise OssError("InvalidArgument", f"RetentionPeriodInDays must be 1 to {MAX_RETENTION_DAYS}.")
    return days


def in_force(config: WormConfiguration | None, now: float) -> WormConfiguration | None:
    """The policy if it is in force at ``now`` (a lapsed InProgress one is not)."""
    if config is None:
        return None
    if config.state == IN_PROGRESS and now >= config.created_at + IN_PROGRESS_SECONDS:
        return None
    return config


def protects(config: WormConfiguration | None, version_created_at: float, now: float) -> bool:
    policy = in_force(config, now)
    return policy is not None and version_created_at + policy.retention_days * DAY > now


def initiate(current: WormConfiguration | None, days: int, now: float) -> WormConfiguration:
    current = in_force(current, now)
    if current is not None and current.state == LOCKED:
        raise OssError("WORMConfigurationLocked", "The bucket's retention policy is locked.")
    return WormConfiguration(str(uuid.uuid4()).replace("-", "").upper(), IN_PROGRESS, check_days(days), now)


def abort(current: WormConfiguration | None, now: float) -> None:
    current = _existing(current, now)
    if current.state == LOCKED:
        raise OssError("WORMConfigurationLocked", "A locked retention policy cannot be aborted.")


def complete(current: WormConfiguration | None, worm_id: str, now: float) -> WormConfiguration:
    current = _same_id(_existing(current, now), worm_id)
    return replace(current, state=LOCKED)


def extend(current: WormConfiguration | None, worm_id: str, days: int, now: float) -> WormConfiguration:
    current = _same_id(_existing(current, now), worm_id)
    if current.state != LOCKED:
        raise OssError("InvalidWORMConfiguration", "Only a locked retention policy can be extended.")
    if check_days(days) <= current.retention_days:
        raise OssError("InvalidWORMConfiguration", "The retention period can only be made longer.")
    return replace(current, retention_days=days)


def _existing(current: WormConfiguration | None, now: float) -> WormConfiguration:
    policy = in_force(current, now)
    if policy is None:
        raise OssError("NoSuchWORMConfiguration")
    return policy


def _same_id(current: WormConfiguration, worm_id: str) -> WormConfiguration:
    if worm_id != current.worm_id:
        raise OssError("InvalidWORMConfiguration", "The WormId does not name the bucket's retention policy.")
    return current
