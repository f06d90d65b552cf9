"""ListObjects paging over a real SQLite metadata store: delimiter, common prefixes, markers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.core.model import Bucket, Versioning
from ferry.service.listing import ObjectPage, list_objects
from ferry.storage.interfaces import NewVersion
from ferry.storage.sqlite_meta import SqliteMetadataStore

BUCKET = "bkt"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteMetadataStore]:
    s = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    s.create_bucket(Bucket(name=BUCKET, owner_id="o", region="oss-cn-hangzhou", created_at=0.0))
    yield s
    s.close()


def fill(store: SqliteMetadataStore, bucket: str, keys: list[str]) -> None:
    for key in keys:
        store.commit_version(NewVersion(bucket=bucket, key=key, created_at=1.0), Versioning.OFF)


def page(
    store: SqliteMetadataStore,
    *,
    prefix: str = "",
    delimiter: str = "",
    after: str = "",
    max_keys: int = 1000,
    bucket: str = BUCKET,
) -> ObjectPage:
    return list_objects(store, bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys)


def entries(p: ObjectPage) -> list[str]:
    """Objects and common prefixes of a page merged in key order, as a client reads them."""
    return sorted([v.key for v in p.objects] + p.common_prefixes)


def expected_listing(keys: list[str], prefix: str, delimiter: str) -> list[str]:
    """The full listing by its definition, without paging."""
    out: set[str] = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        out.add(key if at < 0 else key[: at + len(delimiter)])
    return sorted(out)


def all_pages(
    store: SqliteMetadataStore, bucket: str, prefix: str, delimiter: str, max_keys: int
) -> tuple[list[str], list[ObjectPage]]:
    listed: list[str] = []
    pages: list[ObjectPage] = []
    marker = ""
    for _ in range(1000):
        p = page(store, bucket=bucket, prefix=prefix, delimiter=delimiter, after=marker, max_keys=max_keys)
        pages.append(p)
        listed.extend(entries(p))
        if not p.truncated:
            return listed, pages
        assert p.next_marker, "a truncated page must say where the next one starts"
        assert p.next_marker == entries(p)[-1]
        marker = p.next_marker
    raise AssertionError("paging did not end")


KEYS = ["a", "a/1", "a/2", "a/b/1", "ab", "b/1", "b/2/x", "c", "d/"]


def test_delimiter_groups_into_common_prefixes(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    p = page(store, delimiter="/")
    assert [v.key for v in p.objects] == ["a", "ab", "c"]
    assert p.common_prefixes == ["a/", "b/", "d/"]
    assert p.truncated is False


def test_delimiter_under_a_prefix(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    p = page(store, prefix="a/", delimiter="/")
    assert [v.key for v in p.objects] == ["a/1", "a/2"]
    assert p.common_prefixes == ["a/b/"]
    p = page(store, prefix="a", delimiter="/")
    assert [v.key for v in p.objects] == ["a", "ab"]
    assert p.common_prefixes == ["a/"]


def test_multi_character_delimiter(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, ["x--1", "x--2", "x-y", "z"])
    p = page(store, delimiter="--")
    assert [v.key for v in p.objects] == ["x-y", "z"]
    assert p.common_prefixes == ["x--"]


def test_without_delimiter_lists_every_key(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    p = page(store)
    assert [v.key for v in p.objects] == KEYS
    assert p.common_prefixes == []


def test_paging_through_objects_and_prefixes(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    first = page(store, delimiter="/", max_keys=2)
    assert entries(first) == ["a", "a/"]
    assert (first.truncated, first.next_marker) == (True, "a/")
    second = page(store, delimiter="/", after=first.next_marker, max_keys=2)
    assert entries(second) == ["ab", "b/"]
    assert (second.truncated, second.next_marker) == (True, "b/")
    third = page(store, delimiter="/", after=second.next_marker, max_keys=2)
    assert entries(third) == ["c", "d/"]
    assert third.truncated is False  # exactly full, and nothing after it


def test_truncated_is_exact(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, ["k1", "k2", "k3"])
    assert page(store, max_keys=3).truncated is False
    assert page(store, max_keys=4).truncated is False
    two = page(store, max_keys=2)
    assert two.truncated is True
    assert two.next_marker == "k2"
    assert page(store, after="k1", max_keys=2).truncated is False
    assert page(store, delimiter="k", max_keys=1).common_prefixes == ["k"]
    assert page(store, delimiter="k", max_keys=1).truncated is False


def test_marker_equal_to_a_common_prefix_skips_that_prefix(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    p = page(store, delimiter="/", after="a/")
    assert [v.key for v in p.objects] == ["ab", "c"]
    assert p.common_prefixes == ["b/", "d/"]


def test_marker_inside_a_prefix_without_delimiter(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, KEYS)
    assert [v.key for v in page(store, after="a/1").objects] == [
        "a/2",
        "a/b/1",
        "ab",
        "b/1",
        "b/2/x",
        "c",
        "d/",
    ]


def test_empty_bucket(store: SqliteMetadataStore) -> None:
    p = page(store, delimiter="/")
    assert (p.objects, p.common_prefixes, p.truncated, p.next_marker) == ([], [], False, "")


def test_many_keys_under_one_prefix_are_skipped_in_one_step(store: SqliteMetadataStore) -> None:
    # More than one store batch (1000) under "d/": the page must still hold one prefix.
    fill(store, BUCKET, [f"d/{i:05}" for i in range(1100)] + ["e"])
    p = page(store, delimiter="/", max_keys=10)
    assert p.common_prefixes == ["d/"]
    assert [v.key for v in p.objects] == ["e"]
    assert p.truncated is False


def test_paging_without_delimiter_across_store_batches(store: SqliteMetadataStore) -> None:
    keys = [f"k{i:05}" for i in range(1500)]
    fill(store, BUCKET, keys)
    listed, pages = all_pages(store, BUCKET, "", "", 700)
    assert listed == keys
    assert [len(entries(p)) for p in pages] == [700, 700, 100]


def test_unicode_keys_page_in_utf8_order(store: SqliteMetadataStore) -> None:
    keys = ["a\ue000", "a\U00010000/x", "a\U00010000/y", "a\uffff", "a/\U0001f600", "b"]
    fill(store, BUCKET, keys)
    listed, _ = all_pages(store, BUCKET, "", "/", 1)
    assert listed == ["a/", "a\ue000", "a\uffff", "a\U00010000/", "b"]


def test_common_prefix_with_keys_of_many_last_code_points_is_listed_once(store: SqliteMetadataStore) -> None:
    fill(store, BUCKET, ["a/" + "\U0010ffff" * 5, "b"])
    p = page(store, delimiter="/", max_keys=5)
    assert p.common_prefixes == ["a/"]
    assert [v.key for v in p.objects] == ["b"]
    assert p.truncated is False


_bucket_ids = itertools.count()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteMetadataStore]:
    """One store for every hypothesis example; each example lists its own fresh bucket."""
    s = SqliteMetadataStore(tmp_path_factory.mktemp("listing") / "meta.db", durable=False)
    yield s
    s.close()


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.text(alphabet="ab/", min_size=1, max_size=5), max_size=25, unique=True),
    max_keys=st.integers(min_value=1, max_value=5),
    delimiter=st.sampled_from(["", "/"]),
    prefix=st.sampled_from(["", "a", "a/", "b/", "/"]),
)
def test_pages_concatenate_to_the_full_listing(
    shared_store: SqliteMetadataStore, keys: list[str], max_keys: int, delimiter: str, prefix: str
) -> None:
    bucket = f"prop-{next(_bucket_ids)}"
    shared_store.create_bucket(Bucket(name=bucket, owner_id="o", region="r", created_at=0.0))
    fill(shared_store, bucket, keys)
    listed, pages = all_pages(shared_store, bucket, prefix, delimiter, max_keys)
    expected = expected_listing(keys, prefix, delimiter)
    assert listed == expected  # no duplicates, no holes, in order
    for p in pages[:-1]:
        assert p.truncated
        assert len(entries(p)) == max_keys
    assert len(entries(pages[-1])) <= max_keys
    assert not pages[-1].truncated
    assert len(pages) == max(1, -(-len(expected) // max_keys))
    for p in pages:
        for v in p.objects:
            assert v.key.startswith(prefix)
            assert not delimiter or delimiter not in v.key[len(prefix) :]
