"""RestoreObject: when a cold object's bytes may be read, as a pure function of time.

An Archive, ColdArchive or DeepColdArchive object is frozen: GetObject answers
InvalidObjectState until a RestoreObject has completed.  A restore is *ongoing* for a time
that depends on the storage class and the tier asked for, then the object stays *restored*
for the days asked for, then it is frozen again.  The state is three instants, so no timer
runs anywhere: every reader derives the phase from the clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from email.utils import formatdate

from ferry.core.errors import OssError
from ferry.core.model import StorageClass

DAY_SECONDS = 86400.0

COLD_CLASSES = frozenset({StorageClass.ARCHIVE, StorageClass.COLD_ARCHIVE, StorageClass.DEEP_COLD_ARCHIVE})
"""The storage classes whose objects must be restored before they are read."""


class Tier(enum.StrEnum):
    EXPEDITED = "Expedited"
    STANDARD = "Standard"
    BULK = "Bulk"


_TIERS = {t.value: t for t in Tier}
_MAX_DAYS = {StorageClass.ARCHIVE: 7, StorageClass.COLD_ARCHIVE: 365, StorageClass.DEEP_COLD_ARCHIVE: 365}
_CLASS_TIERS = {
    StorageClass.COLD_ARCHIVE: frozenset(Tier),
    StorageClass.DEEP_COLD_ARCHIVE: frozenset({Tier.EXPEDITED, Tier.STANDARD}),
}


@dataclass(frozen=True)
class RestoreDurations:
    """``[restore]``: seconds a restore stays ongoing, per storage class and tier.

    OSS takes about a minute for Archive and hours for the colder classes; a local store
    keeps the order but not the wait (tests set these near zero)."""

    archive: float = 60.0
    cold_archive_expedited: float = 60.0
    cold_archive_standard: float = 300.0
    cold_archive_bulk: float = 600.0
    deep_cold_archive_expedited: float = 600.0
    deep_cold_archive_standard: float = 1800.0

    def of(self, storage_class: StorageClass, tier: Tier) -> float:
        if storage_class is StorageClass.ARCHIVE:
            return self.archive
        if storage_class is StorageClass.COLD_ARCHIVE:
            return {
                Tier.EXPEDITED: self.cold_archive_expedited,
                Tier.STANDARD: self.cold_archive_standard,
                Tier.BULK: self.cold_archive_bulk,
            }[tier]
        if tier is Tier.EXPEDITED:
            return self.deep_cold_archive_expedited
        return self.deep_cold_archive_standard


@dataclass(frozen=True)
class RestoreRequest:
    """What a RestoreObject document asks: ``days`` restored, at ``tier`` (None: not given)."""

    days: int = 1
    tier: str | None = None


@dataclass(frozen=True)
class RestoreState:
    """One restore of one object version."""

    requested_at: float
    ready_at: float
    expires_at: float
    tier: Tier


class Phase(enum.Enum):
    FROZEN = "frozen"
    ONGOING = "ongoing"
    RESTORED = "restored"


def phase(state: RestoreState | None, now: float) -> Phase:
    if state is None or now >= state.expires_at:
        return Phase.FROZEN
    return Phase.ONGOING if now < state.ready_at else Phase.RESTORED


def restore_status(state: RestoreState | None, now: float) -> str | None:
    """The ``x-oss-restore`` header (and a listing's ``RestoreInfo``); None when frozen."""
    current = phase(state, now)
    if current is Phase.FROZEN or state is None:
        return None
    if current is Phase.ONGOING:
        return 'ongoing-request="true"'
    expiry = formatdate(state.expires_at, usegmt=True)
    return f'ongoing-request="false", expiry-date="{expiry}"'


def readable(storage_class: StorageClass, state: RestoreState | None, now: float) -> bool:
    return storage_class not in COLD_CLASSES or phase(state, now) is Phase.RESTORED


def check_readable(storage_class: StorageClass, state: RestoreState | None, now: float) -> None:
    if not readable(storage_class, state, now):
        raise OssError("InvalidObjectState", "The object is not restored: call RestoreObject first.")


def checked_tier(storage_class: StorageClass, request: RestoreRequest) -> Tier:
    """The tier a request asks for, refused as OSS refuses it (Archive takes none)."""
    if storage_class not in COLD_CLASSES:
        raise OssError("OperationNotSupported", f"A {storage_class.value} object needs no restore.")
    max_days = _MAX_DAYS[storage_class]
    if not 1 <= request.days <= max_days:
        raise OssError(
            "InvalidArgument",
            f"Days must be 1 to {max_days} for a {storage_class.value} object.",
            ArgumentName="Days",
            ArgumentValue=str(request.days),
        )
    if storage_class is StorageClass.ARCHIVE:
        if request.tier is not None:
            raise OssError("MalformedXML", "An Archive object is restored without JobParameters.")
        return Tier.STANDARD
    tier = _TIERS.get(request.tier or Tier.STANDARD.value)
    if tier is None or tier not in _CLASS_TIERS[storage_class]:
        raise OssError(
            "InvalidArgument",
            f"Tier {request.tier!r} is not offered for a {storage_class.value} object.",
            ArgumentName="Tier",
            ArgumentValue=str(request.tier),
        )
    return tier


@dataclass(frozen=True)
class RestoreOutcome:
    state: RestoreState
    started: bool
    """True: a new restore began (202); False: a restored copy's days were extended (200)."""


def decide(
    storage_class: StorageClass,
    current: RestoreState | None,
    request: RestoreRequest,
    durations: RestoreDurations,
    now: float,
) -> RestoreOutcome:
    """What a RestoreObject does to a version restored as ``current`` (None: never)."""
    tier = checked_tier(storage_class, request)
    lasting = request.days * DAY_SECONDS
    current_phase = phase(current, now)
    if current_phase is Phase.ONGOING:
        raise OssError("RestoreAlreadyInProgress", "The object is being restored.")
    if current_phase is Phase.RESTORED and current is not None:
        # A restored copy is kept longer, never shorter than it already was.
        extended = max(current.expires_at, now + lasting)
        kept = RestoreState(current.requested_at, current.ready_at, extended, current.tier)
        return RestoreOutcome(kept, started=False)
    ready = now + durations.of(storage_class, tier)
    return RestoreOutcome(RestoreState(now, ready, ready + lasting, tier), started=True)
