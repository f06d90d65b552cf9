"""The pure rules of multipart uploads: part numbers, the multipart ETag, the completion list."""

from __future__ import annotations

import hashlib
import os

import pytest

from ferry.core.checksums import crc64_of
from ferry.core.errors import OssError
from ferry.core.multipart import (
    MIN_PART_SIZE,
    Part,
    check_part_number,
    combined_crc64,
    multipart_etag,
    new_upload_id,
    normalize_etag,
    select_parts,
)


def part(number: int, data: bytes) -> Part:
    return Part(
        part_number=number,
        size=len(data),
        etag=hashlib.md5(data).hexdigest().upper(),
        crc64=crc64_of(data),
        blob_id=f"blob-{number}",
        created_at=0.0,
    )


BIG = b"a" * MIN_PART_SIZE
SMALL = b"tail"


@pytest.mark.parametrize("raw", ["1", "10000", "5"])
def test_part_numbers_in_range(raw: str) -> None:
    assert check_part_number(raw) == int(raw)


@pytest.mark.parametrize("raw", [None, "", "0", "10001", "-1", "x", "1.5"])
def test_part_numbers_out_of_range(raw: str | None) -> None:
    with pytest.raises(OssError) as info:
        check_part_number(raw)
    assert info.value.code == "InvalidArgument"


def test_multipart_etag_is_md5_of_binary_part_md5s_dash_count() -> None:
    chunks = [os.urandom(100), os.urandom(50)]
    parts = [part(1, chunks[0]), part(2, chunks[1])]
    expected = hashlib.md5(b"".join(hashlib.md5(c).digest() for c in chunks)).hexdigest().upper()
    assert multipart_etag(parts) == f"{expected}-2"


def test_combined_crc_is_the_crc_of_the_whole_object() -> None:
    chunks = [os.urandom(1000), b"", os.urandom(7)]
    parts = [part(i + 1, c) for i, c in enumerate(chunks)]
    assert combined_crc64(parts) == crc64_of(b"".join(chunks))


def test_normalize_etag_strips_quotes_and_case() -> None:
    assert normalize_etag(' "abcDEF" ') == "ABCDEF"


def test_select_parts_picks_the_named_parts_in_order() -> None:
    stored = {1: part(1, BIG), 3: part(3, BIG), 4: part(4, SMALL)}
    chosen = select_parts([(1, f'"{stored[1].etag.lower()}"'), (4, stored[4].etag)], stored)
    assert [p.part_number for p in chosen] == [1, 4]


@pytest.mark.parametrize(
    ("requested", "code"),
    [
        ([(2, "E2"), (1, "E1")], "InvalidPartOrder"),
        ([(1, "E1"), (1, "E1")], "InvalidPartOrder"),
        ([(1, "E1"), (5, "E5")], "InvalidPart"),  # part 5 was never uploaded
        ([(1, "0" * 32)], "InvalidPart"),  # wrong ETag
        ([], "MalformedXML"),
    ],
)
def test_select_parts_errors(requested: list[tuple[int, str]], code: str) -> None:
    stored = {1: part(1, BIG), 2: part(2, BIG)}
    named = [(n, stored[n].etag if e in ("E1", "E2") else e) for n, e in requested]
    with pytest.raises(OssError) as info:
        select_parts(named, stored)
    assert info.value.code == code


def test_only_the_last_part_may_be_small() -> None:
    stored = {1: part(1, SMALL), 2: part(2, BIG)}
    with pytest.raises(OssError) as info:
        select_parts([(1, stored[1].etag), (2, stored[2].etag)], stored)
    assert info.value.code == "EntityTooSmall"
    assert info.value.status == 400
    ok = {1: part(1, BIG), 2: part(2, SMALL)}
    assert len(select_parts([(1, ok[1].etag), (2, ok[2].etag)], ok)) == 2


def test_upload_ids_are_hex_and_ordered_by_creation() -> None:
    ids = [new_upload_id() for _ in range(50)]
    assert all(len(i) == 32 and i == i.upper() and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == 50
    assert [i[:16] for i in ids] == sorted(i[:16] for i in ids)
