"""The HTTP Range header as OSS reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ferry.core.errors import OssError

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Exclusive."""


def parse_range(header: str | None, size: int, *, standard: bool = False) -> ByteRange | None:
    """The range to send, or None for the whole object.

    OSS ignores a malformed or unsatisfiable range and sends the whole object,
    unless the client asked for standard behaviour (``x-oss-range-behavior:
    standard``), which answers 416 InvalidRange instead.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None  # multi-range or garbage: OSS sends the whole object
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return _unsatisfiable(standard)
        return ByteRange(max(0, size - suffix), size) if size else _unsatisfiable(standard)
    start = int(first)
    end = int(last) + 1 if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        return _unsatisfiable(standard)
    return ByteRange(start, min(end, size))


def _unsatisfiable(standard: bool) -> ByteRange | None:
    if standard:
        raise OssError("InvalidRange")
    return None
