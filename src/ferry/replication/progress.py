"""Replication progress computed from durable state, never from counters in memory."""

from __future__ import annotations

from ferry.core.clock import Clock
from ferry.core.replication_rules import ReplicationRule
from ferry.storage.sqlite_replication import SqliteReplicationStore


class DurableProgress:
    def __init__(self, rules: SqliteReplicationStore, clock: Clock) -> None:
        self._rules = rules
        self._clock = clock

    def progress(self, bucket: str, rule: ReplicationRule) -> tuple[float, float | None]:
        """(historical fraction, NewObject time).

        NewObject is the creation time of the oldest change still pending for the
        rule (every change before it has reached the destination), or now when
        nothing is pending.
        """
        fraction = self._rules.historical_fraction(bucket, rule.rule_id)
        oldest = self._rules.oldest_pending_change(bucket, rule.rule_id)
        return fraction, oldest if oldest is not None else self._clock.now()
