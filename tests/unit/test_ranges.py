"""The Range header as OSS reads it (lenient by default, 416 with x-oss-range-behavior: standard)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.core.errors import OssError
from ferry.protocol.ranges import ByteRange, parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, ByteRange(0, 10)),
        ("bytes=0-0", 100, ByteRange(0, 1)),
        ("bytes=5-5", 100, ByteRange(5, 6)),
        ("bytes=-5", 100, ByteRange(95, 100)),
        ("bytes=10-", 100, ByteRange(10, 100)),
        ("bytes=99-", 100, ByteRange(99, 100)),
        ("bytes=90-200", 100, ByteRange(90, 100)),  # end past size is clipped
        ("bytes=0-99", 100, ByteRange(0, 100)),
        ("bytes=0-100", 100, ByteRange(0, 100)),
        ("bytes=-500", 100, ByteRange(0, 100)),  # suffix larger than size: the whole object, as a range
        ("bytes=-100", 100, ByteRange(0, 100)),
        (" bytes=1-2 ", 100, ByteRange(1, 3)),
    ],
)
def test_satisfiable_ranges(header: str, size: int, expected: ByteRange) -> None:
    assert parse_range(header, size) == expected
    assert parse_range(header, size, standard=True) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=9-0",  # last before first: ignored, whole object
        "bytes=0-1,5-9",  # multi-range
        "bytes=-",
        "bytes=a-b",
        "bytes=1-2-3",
        "items=0-9",
        "0-9",
        "bytes 0-9",
        "bytes=--5",
    ],
)
def test_ignored_ranges_give_the_whole_object(header: str | None) -> None:
    assert parse_range(header, 100) is None
    assert parse_range(header, 100, standard=True) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=100-200", 100),
        ("bytes=500-600", 100),
        ("bytes=0-9", 0),  # empty object
        ("bytes=0-", 0),
        ("bytes=-5", 0),
        ("bytes=-0", 100),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    assert parse_range(header, size) is None
    with pytest.raises(OssError) as info:
        parse_range(header, size, standard=True)
    assert info.value.code == "InvalidRange"
    assert info.value.status == 416


def test_empty_object_without_range_is_whole() -> None:
    assert parse_range(None, 0) is None
    assert parse_range(None, 0, standard=True) is None


@given(
    size=st.integers(min_value=0, max_value=10_000),
    first=st.one_of(st.none(), st.integers(min_value=0, max_value=20_000)),
    last=st.one_of(st.none(), st.integers(min_value=0, max_value=20_000)),
    standard=st.booleans(),
)
def test_any_returned_range_lies_inside_the_object(
    size: int, first: int | None, last: int | None, standard: bool
) -> None:
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    try:
        got = parse_range(header, size, standard=standard)
    except OssError as error:
        assert standard
        assert error.code == "InvalidRange"
        return
    if got is None:
        return
    assert 0 <= got.start < got.end <= size
    if first is not None:
        assert got.start == first
        if last is not None:
            assert got.end == min(last + 1, size)
    elif last is not None:
        assert got.end == size
        assert got.end - got.start == min(last, size)


@given(header=st.text(max_size=30), size=st.integers(min_value=0, max_value=1000))
def test_arbitrary_headers_never_escape_the_object(header: str, size: int) -> None:
    try:
        got = parse_range(header, size, standard=True)
    except OssError as error:
        assert error.code == "InvalidRange"
        return
    if got is not None:
        assert 0 <= got.start < got.end <= size
