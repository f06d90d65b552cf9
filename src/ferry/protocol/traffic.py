"""Single-request bandwidth limits: ``x-oss-traffic-limit`` (header, or query of a presigned URL).

The value is in bit/s, 819200 (100 KB/s) to 838860800 (100 MB/s), as on OSS.  The
request body is read, and the response body written, no faster than that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ferry.core.errors import OssError

HEADER = "x-oss-traffic-limit"
MIN_BITS, MAX_BITS = 819_200, 838_860_800
CHUNKS_PER_SECOND = 10
"""A paced body goes out in pieces of a tenth of a second's worth."""

Receive = Callable[[], Awaitable[dict[str, Any]]]


def requested_limit(headers: Mapping[str, str], query: Mapping[str, str]) -> int | None:
    raw = headers.get(HEADER) or query.get(HEADER)
    if raw is None:
        return None
    if not raw.isdigit() or not MIN_BITS <= int(raw) <= MAX_BITS:
        raise OssError(
            "InvalidArgument",
            f"{HEADER} must be {MIN_BITS} to {MAX_BITS} bit/s.",
            ArgumentName=HEADER,
            ArgumentValue=raw,
        )
    return int(raw)


class Pacer:
    def __init__(self, bits_per_second: int) -> None:
        self.bytes_per_second = bits_per_second / 8
        self._start = time.monotonic()
        self._done = 0

    @property
    def chunk(self) -> int:
        return max(1, int(self.bytes_per_second / CHUNKS_PER_SECOND))

    async def account(self, size: int) -> None:
        """Wait until ``size`` more bytes fit within the rate since the start."""
        self._done += size
        delay = self._start + self._done / self.bytes_per_second - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def paced_receive(receive: Receive, bits_per_second: int) -> Receive:
    pacer = Pacer(bits_per_second)

    async def paced() -> dict[str, Any]:
        message = await receive()
        await pacer.account(len(message.get("body", b"")))
        return message

    return paced
