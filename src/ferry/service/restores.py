"""RestoreObject and what a restore changes for readers of a cold object version."""

from __future__ import annotations

from collections.abc import Iterable

from ferry.core.clock import Clock
from ferry.core.model import ObjectVersion
from ferry.core.restore import (
    COLD_CLASSES,
    RestoreDurations,
    RestoreOutcome,
    RestoreRequest,
    RestoreState,
    check_readable,
    checked_tier,
    decide,
    restore_status,
)
from ferry.storage.interfaces import RestoreStore


class RestoreService:
    def __init__(self, store: RestoreStore, durations: RestoreDurations, clock: Clock) -> None:
        self._store = store
        self._durations = durations
        self._clock = clock

    def restore(self, version: ObjectVersion, request: RestoreRequest) -> RestoreOutcome:
        # Refuse a bad request before the write transaction.
        checked_tier(version.storage_class, request)
        now = self._clock.now()
        return self._store.change(
            version.seq, lambda current: decide(version.storage_class, current, request, self._durations, now)
        )

    def state_of(self, version: ObjectVersion) -> RestoreState | None:
        if version.storage_class not in COLD_CLASSES:
            return None
        return self._store.get(version.seq)

    def status_of(self, version: ObjectVersion) -> str | None:
        """``x-oss-restore`` of the version; None for a frozen or a warm one."""
        if version.storage_class not in COLD_CLASSES:
            return None
        return restore_status(self._store.get(version.seq), self._clock.now())

    def check_readable(self, version: ObjectVersion) -> None:
        """InvalidObjectState unless the version's bytes may be read (GetObject, copies)."""
        if version.storage_class in COLD_CLASSES:
            check_readable(version.storage_class, self._store.get(version.seq), self._clock.now())

    def statuses_of(self, versions: Iterable[ObjectVersion]) -> dict[int, str]:
        """``RestoreInfo`` of a listing's entries, by seq: one query for the cold ones only."""
        cold = [v.seq for v in versions if v.storage_class in COLD_CLASSES and not v.is_delete_marker]
        if not cold:
            return {}
        now = self._clock.now()
        statuses = {}
        for seq, state in self._store.of(cold).items():
            status = restore_status(state, now)
            if status is not None:
                statuses[seq] = status
        return statuses
