"""Replication Time Control: did the last hour keep the promise?

OSS promises that 99.99% of the objects written in an hour reach the destination
within the threshold (10 minutes).  A change still pending after the threshold
has already broken the promise, so it counts as late before it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

RTC_TARGET = 0.9999
RTC_WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class RtcReport:
    enabled: bool
    threshold_seconds: float
    objects: int
    """Changes of the window: replicated ones and those pending longer than the threshold."""
    within: int
    """Of those, replicated within the threshold."""

    @property
    def ratio(self) -> float | None:
        return self.within / self.objects if self.objects else None

    @property
    def met(self) -> bool | None:
        """None when nothing was written in the window (no promise to keep)."""
        ratio = self.ratio
        return None if ratio is None else ratio >= RTC_TARGET

    @property
    def state(self) -> str:
        return "enabled" if self.enabled else "disabled"


def rtc_report(enabled: bool, threshold_seconds: float, within: int, late: int, overdue: int) -> RtcReport:
    """``within``/``late``: replicated changes of the window; ``overdue``: pending past the threshold."""
    return RtcReport(enabled, threshold_seconds, objects=within + late + overdue, within=within)
