"""CRC-64/ECMA combination, checked against crcmod over real concatenations."""

from __future__ import annotations

import crcmod
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.core.checksums import Digests, crc64_combine, crc64_concat, crc64_of, crc64_update

# The reference: crcmod's own CRC-64 as OSS and the SDKs define it, independent of Ferry.
reference = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def test_crc64_matches_the_reference_and_oss_test_vector() -> None:
    assert crc64_of(b"") == 0
    assert crc64_of(b"123456789") == reference(b"123456789") == 0x995DC9BBDF1939FA
    assert crc64_update(crc64_of(b"1234"), b"56789") == crc64_of(b"123456789")


@settings(max_examples=300)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_combine_equals_the_crc_of_the_concatenation(a: bytes, b: bytes) -> None:
    assert crc64_combine(reference(a), reference(b), len(b)) == reference(a + b)


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=2000), max_size=12))
def test_concat_of_many_pieces(pieces: list[bytes]) -> None:
    assert crc64_concat((reference(p), len(p)) for p in pieces) == reference(b"".join(pieces))


def test_combine_with_large_lengths_matches_streaming() -> None:
    # Lengths with many set bits exercise every power of x in the table.
    a = bytes(range(256)) * 7
    b = b"\xa5" * (1024 * 1024 + 12345)
    assert crc64_combine(reference(a), reference(b), len(b)) == reference(a + b)


def test_combine_with_an_empty_piece_on_either_side() -> None:
    data = b"12345"
    assert crc64_combine(reference(data), 0, 0) == reference(data)
    assert crc64_combine(0, reference(data), len(data)) == reference(data)


def test_combine_rejects_impossible_lengths() -> None:
    with pytest.raises(ValueError):
        crc64_combine(1, 2, -1)
    with pytest.raises(ValueError):
        crc64_combine(1, 2, 1 << 60)


def test_digests_stream_equals_one_shot() -> None:
    d = Digests()
    for chunk in (b"abc", b"", b"defgh"):
        d.update(chunk)
    assert d.crc64 == reference(b"abcdefgh")
    assert d.size == 8


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=5000), max_size=10))
def test_streamed_crc_over_any_chunking_equals_the_reference(chunks: list[bytes]) -> None:
    d = Digests()
    for chunk in chunks:
        d.update(memoryview(chunk))
    assert d.crc64 == reference(b"".join(chunks))
