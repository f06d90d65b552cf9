"""The RestoreObject request document."""

from __future__ import annotations

from ferry.core.restore import RestoreRequest
from ferry.protocol.xmlcodec import parse, text_of
from ferry.protocol.xmlvalues import int_of


def parse_restore_request(body: bytes) -> RestoreRequest:
    """``<RestoreRequest><Days>n</Days><JobParameters><Tier>t</Tier></JobParameters>``; an
    empty body asks for one day at the default tier, as OSS reads it."""
    if not body.strip():
        return RestoreRequest()
    root = parse(body, "RestoreRequest")
    days = int_of(root, "Days")
    job = root.find("JobParameters")
    tier = text_of(job, "Tier") if job is not None else None
    return RestoreRequest(days=1 if days is None else days, tier=tier)
