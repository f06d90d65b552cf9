"""The replica batch framing: what goes in comes out; anything cut or bent is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.core.errors import OssError
from ferry.protocol.replica_batch import (
    BatchItem,
    ItemResult,
    decode_items,
    decode_results,
    encode_items,
    encode_results,
)

header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
items = st.builds(
    BatchItem,
    key=st.text(min_size=1, max_size=40),
    headers=st.dictionaries(header_names, st.text(max_size=30), max_size=5),
    body=st.binary(max_size=300),
)
results = st.one_of(
    st.builds(ItemResult, applied=st.booleans()),
    st.builds(
        ItemResult,
        code=st.text(min_size=1, max_size=20),
        message=st.text(max_size=40),
        status=st.integers(400, 599),
    ),
)


@given(st.lists(items, max_size=12))
def test_items_round_trip(batch: list[BatchItem]) -> None:
    assert decode_items(encode_items(batch)) == batch


@given(st.lists(items, min_size=1, max_size=6), st.data())
def test_a_cut_batch_is_refused(batch: list[BatchItem], data: st.DataObject) -> None:
    encoded = encode_items(batch)
    cut = data.draw(st.integers(1, len(encoded) - 1))
    try:
        decoded = decode_items(encoded[:cut])
    except OssError as exc:
        assert exc.code == "InvalidArgument"
        return
    # A cut that falls between items leaves the whole items before it, never a part of one.
    assert decoded == batch[: len(decoded)] and len(decoded) < len(batch)


def test_a_head_that_is_not_an_item_is_refused() -> None:
    for head in (b"[]", b'{"key": "", "headers": {}}', b'{"key": "k", "headers": {"a": 1}}', b"\xff"):
        framed = len(head).to_bytes(4, "big") + (0).to_bytes(4, "big") + head
        with pytest.raises(OssError):
            decode_items(framed)


def test_header_names_arrive_in_lower_case() -> None:
    (item,) = decode_items(encode_items([BatchItem("k", {"X-OSS-Meta-A": "1"}, b"")]))
    assert item.headers == {"x-oss-meta-a": "1"}


@given(st.lists(results, max_size=12))
def test_results_round_trip(answers: list[ItemResult]) -> None:
    assert decode_results(encode_results(answers), len(answers)) == answers


def test_results_of_another_length_are_refused() -> None:
    with pytest.raises(ValueError):
        decode_results(encode_results([ItemResult(applied=True)]), 2)
    with pytest.raises(ValueError):
        decode_results(b"not json", 0)
