"""HTTP compression of GetObject answers, as OSS does it.

A client that sends ``Accept-Encoding: gzip`` gets a text-like object of 1 KiB or more
gzip-compressed, without a Content-Length (the compressed size is not known before the last
byte): the answer goes out chunked.  Ranges, objects stored with a Content-Encoding of their
own, and other types are sent as they are.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

COMPRESSIBLE_TYPES = frozenset(
    {
        "text/html",
        "text/plain",
        "text/css",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/json",
        "application/xml",
        "application/rss+xml",
        "image/svg+xml",
        "image/tiff",
    }
)
MIN_BYTES = 1024


def accepts_gzip(accept_encoding: str | None) -> bool:
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        quality = params.strip().lower().removeprefix("q=")
        return not params.strip() or quality not in ("0", "0.0", "0.00", "0.000")
    return False


def should_compress(accept_encoding: str | None, headers: Sequence[tuple[str, str]], length: int) -> bool:
    """Whether a whole-object GET answer with these headers is to be gzip-compressed."""
    if length < MIN_BYTES or not accepts_gzip(accept_encoding):
        return False
    names = {name.lower(): value for name, value in headers}
    if "content-encoding" in names or "content-range" in names:
        return False
    content_type = names.get("content-type", "").split(";")[0].strip().lower()
    return content_type in COMPRESSIBLE_TYPES


def gzip_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
