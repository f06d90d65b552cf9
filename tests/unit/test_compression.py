"""When a GetObject answer is gzip-compressed."""

from __future__ import annotations

import gzip
import os

import pytest

from ferry.protocol.compression import accepts_gzip, gzip_chunks, should_compress

TEXT = [("Content-Type", "text/plain; charset=utf-8")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_only_large_enough_whole_text_objects_without_an_encoding() -> None:
    assert should_compress("gzip", TEXT, 1024)
    assert not should_compress("gzip", TEXT, 1023)
    assert not should_compress(None, TEXT, 5000)
    assert not should_compress("gzip", [("Content-Type", "application/octet-stream")], 5000)
    assert not should_compress("gzip", [*TEXT, ("Content-Encoding", "br")], 5000)
    assert not should_compress("gzip", [*TEXT, ("Content-Range", "bytes 0-9/5000")], 5000)


def test_gzip_chunks_decompress_to_the_input() -> None:
    pieces = [os.urandom(70000), b"a" * 100000, b""]
    assert gzip.decompress(b"".join(gzip_chunks(iter(pieces)))) == b"".join(pieces)
