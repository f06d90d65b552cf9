"""The contract of a MetadataStore, run against the SQLite adapter.

Every adapter (a PostgreSQL one, an in-memory one) must pass these tests: add
its factory to the ``store`` fixture's params.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.core.errors import OssError
from ferry.core.model import NULL_VERSION, Bucket, BucketAcl, ObjectAcl, StorageClass, Versioning
from ferry.storage.interfaces import AccessKey, CommitResult, MetadataStore, NewVersion
from ferry.storage.sqlite_db import SqliteDatabase
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_rows import prefix_upper_bound
from ferry.storage.sqlite_writer import GroupWriter

OWNER = "1234567890"
OFF, ENABLED, SUSPENDED = Versioning.OFF, Versioning.ENABLED, Versioning.SUSPENDED

ADAPTERS: dict[str, Callable[[Path], MetadataStore]] = {
    "sqlite": lambda tmp: SqliteMetadataStore(tmp / "meta" / "ferry.db"),
}


@pytest.fixture(params=sorted(ADAPTERS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    s = ADAPTERS[request.param](tmp_path)
    yield s
    close = getattr(s, "close", None)
    if close is not None:
        close()


def bucket(name: str, owner: str = OWNER, created_at: float = 1_700_000_000.0) -> Bucket:
    return Bucket(name=name, owner_id=owner, region="oss-cn-hangzhou", created_at=created_at)


@pytest.fixture
def bkt(store: MetadataStore) -> str:
    store.create_bucket(bucket("bkt"))
    return "bkt"


def put(
    store: MetadataStore, key: str, versioning: Versioning = OFF, blob: str | None = None, **kw: Any
) -> CommitResult:
    blob_id = f"blob-{key}" if blob is None else blob
    new = NewVersion(bucket="bkt", key=key, created_at=1_700_000_001.0, blob_id=blob_id, **kw)
    return store.commit_version(new, versioning)


# --- access keys --------------------------------------------------------------------


def test_access_keys_put_get_and_replace(store: MetadataStore) -> None:
    assert store.get_access_key("LTAIx") is None
    store.put_access_key(AccessKey("LTAIx", "s1", "acct"))
    assert store.get_access_key("LTAIx") == AccessKey("LTAIx", "s1", "acct")
    store.put_access_key(AccessKey("LTAIx", "s2", "acct2"))
    assert store.get_access_key("LTAIx") == AccessKey("LTAIx", "s2", "acct2")
    assert store.get_access_key("ltaix") is None


# --- buckets ----------------------------------------------------------------------


def test_create_and_get_bucket(store: MetadataStore) -> None:
    b = Bucket(
        name="b1",
        owner_id=OWNER,
        region="oss-cn-beijing",
        created_at=1_700_000_123.5,
        acl=BucketAcl.PUBLIC_READ,
        storage_class=StorageClass.IA,
        versioning=Versioning.ENABLED,
        data_redundancy="ZRS",
    )
    store.create_bucket(b)
    assert store.get_bucket("b1") == b
    assert store.get_bucket("b2") is None


def test_duplicate_bucket_is_already_exists(store: MetadataStore) -> None:
    store.create_bucket(bucket("dup"))
    with pytest.raises(OssError) as info:
        store.create_bucket(bucket("dup", owner="someone-else"))
    assert info.value.code == "BucketAlreadyExists"
    assert info.value.details.get("BucketName") == "dup"
    assert store.get_bucket("dup") == bucket("dup")


def test_list_buckets_prefix_marker_limit_in_name_order(store: MetadataStore) -> None:
    for name in ["b-2", "a-1", "b-10", "c-1", "b-1"]:
        store.create_bucket(bucket(name))
    store.create_bucket(bucket("b-other", owner="other"))

    def names(prefix: str = "", marker: str = "", limit: int = 100) -> list[str]:
        return [b.name for b in store.list_buckets(OWNER, prefix, marker, limit)]

    assert names() == ["a-1", "b-1", "b-10", "b-2", "c-1"]
    assert names(prefix="b-") == ["b-1", "b-10", "b-2"]
    assert names(prefix="b-1") == ["b-1", "b-10"]
    assert names(marker="b-1") == ["b-10", "b-2", "c-1"]
    assert names(prefix="b-", marker="b-10") == ["b-2"]
    assert names(limit=2) == ["a-1", "b-1"]
    assert names(marker="b-1", limit=1) == ["b-10"]
    assert names(prefix="z") == []
    assert [b.name for b in store.list_buckets("other", "", "", 10)] == ["b-other"]


def test_delete_bucket(store: MetadataStore, bkt: str) -> None:
    put(store, "k")
    with pytest.raises(OssError) as info:
        store.delete_bucket(bkt)
    assert info.value.code == "BucketNotEmpty"
    assert store.get_bucket(bkt) is not None
    v = store.get_version(bkt, "k", None)
    assert v is not None
    store.delete_version(bkt, "k", v.version_id)
    store.delete_bucket(bkt)
    assert store.get_bucket(bkt) is None


def test_bucket_with_only_a_delete_marker_is_not_empty(store: MetadataStore, bkt: str) -> None:
    put(store, "k", ENABLED, is_delete_marker=True, blob="")
    with pytest.raises(OssError) as info:
        store.delete_bucket(bkt)
    assert info.value.code == "BucketNotEmpty"


def test_bucket_acl_and_versioning(store: MetadataStore, bkt: str) -> None:
    store.set_bucket_acl(bkt, BucketAcl.PUBLIC_READ_WRITE)
    store.set_bucket_versioning(bkt, ENABLED)
    got = store.get_bucket(bkt)
    assert got is not None
    assert (got.acl, got.versioning) == (BucketAcl.PUBLIC_READ_WRITE, ENABLED)
    store.set_bucket_versioning(bkt, SUSPENDED)
    got = store.get_bucket(bkt)
    assert got is not None and got.versioning is SUSPENDED


def test_bucket_stats_count_live_versions(store: MetadataStore, bkt: str) -> None:
    put(store, "a", size=10)
    put(store, "b", size=5)
    put(store, "c", ENABLED, is_delete_marker=True, blob="")
    stats = store.bucket_stats(bkt)
    assert (stats.object_count, stats.storage_bytes) == (2, 15)


# --- versions: versioning OFF -------------------------------------------------------


def test_unversioned_put_is_the_null_version(store: MetadataStore, bkt: str) -> None:
    result = put(
        store,
        "k",
        size=3,
        etag="ABC",
        crc64="123",
        content_headers=(("content-type", "text/plain"),),
        user_meta=(("x", "y"),),
        acl=ObjectAcl.PRIVATE,
        owner_id=OWNER,
    )
    v = result.version
    assert v.version_id == NULL_VERSION
    assert v.is_latest and not v.is_delete_marker
    assert (v.size, v.etag, v.crc64, v.blob_id) == (3, "ABC", "123", "blob-k")
    assert dict(v.content_headers) == {"content-type": "text/plain"}
    assert dict(v.user_meta) == {"x": "y"}
    assert v.acl is ObjectAcl.PRIVATE
    assert result.freed_blob_ids == []
    assert store.get_version(bkt, "k", None) == v
    assert store.get_version(bkt, "k", NULL_VERSION) == v


def test_unversioned_overwrite_frees_the_old_blob_and_seq_increases(store: MetadataStore, bkt: str) -> None:
    first = put(store, "k", blob="blob-1").version
    second = put(store, "k", blob="blob-2")
    assert list(second.freed_blob_ids) == ["blob-1"]
    assert second.version.version_id == NULL_VERSION
    assert second.version.seq > first.seq
    third = put(store, "k", blob="blob-3")
    assert third.version.seq > second.version.seq
    assert list(third.freed_blob_ids) == ["blob-2"]
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.blob_id == "blob-3"
    assert [v.key for v in store.list_latest(bkt, "", "", 10)] == ["k"]


def test_seq_increases_across_keys(store: MetadataStore, bkt: str) -> None:
    seqs = [put(store, k).version.seq for k in ["b", "a", "c", "a"]]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_overwrite_with_same_blob_frees_nothing(store: MetadataStore, bkt: str) -> None:
    put(store, "k", blob="same")
    assert list(put(store, "k", blob="same").freed_blob_ids) == []


# --- versions: versioning ENABLED ---------------------------------------------------


def test_enabled_puts_make_new_versions(store: MetadataStore, bkt: str) -> None:
    v1 = put(store, "k", ENABLED, blob="b1")
    v2 = put(store, "k", ENABLED, blob="b2")
    assert v1.version.version_id.startswith("CAEQ")
    assert v2.version.version_id.startswith("CAEQ")
    assert v1.version.version_id != v2.version.version_id
    assert list(v2.freed_blob_ids) == []
    assert v2.version.seq > v1.version.seq
    old = store.get_version(bkt, "k", v1.version.version_id)
    assert old is not None and old.is_latest is False and old.blob_id == "b1"
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.version_id == v2.version.version_id and latest.is_latest


def test_delete_marker_hides_the_key_and_keeps_versions(store: MetadataStore, bkt: str) -> None:
    v1 = put(store, "k", ENABLED).version
    marker = store.commit_version(
        NewVersion(bucket=bkt, key="k", created_at=1.0, is_delete_marker=True), ENABLED
    ).version
    assert marker.is_delete_marker and marker.is_latest
    assert marker.version_id.startswith("CAEQ")
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.is_delete_marker
    assert store.list_latest(bkt, "", "", 10) == []
    kept = store.get_version(bkt, "k", v1.version_id)
    assert kept is not None and not kept.is_latest


def test_deleting_the_latest_version_promotes_the_next_newest(store: MetadataStore, bkt: str) -> None:
    v1 = put(store, "k", ENABLED, blob="b1").version
    v2 = put(store, "k", ENABLED, blob="b2").version
    v3 = put(store, "k", ENABLED, blob="b3").version
    gone = store.delete_version(bkt, "k", v3.version_id)
    assert gone is not None
    assert gone.version.version_id == v3.version_id
    assert list(gone.freed_blob_ids) == ["b3"]
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.version_id == v2.version_id and latest.is_latest
    # Removing an older version leaves the latest alone.
    store.delete_version(bkt, "k", v1.version_id)
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.version_id == v2.version_id
    assert store.get_version(bkt, "k", v1.version_id) is None
    assert store.delete_version(bkt, "k", v1.version_id) is None
    store.delete_version(bkt, "k", v2.version_id)
    assert store.get_version(bkt, "k", None) is None


def test_deleting_a_delete_marker_uncovers_the_object(store: MetadataStore, bkt: str) -> None:
    v1 = put(store, "k", ENABLED).version
    marker = put(store, "k", ENABLED, is_delete_marker=True, blob="").version
    gone = store.delete_version(bkt, "k", marker.version_id)
    assert gone is not None and list(gone.freed_blob_ids) == []
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.version_id == v1.version_id
    assert [v.key for v in store.list_latest(bkt, "", "", 10)] == ["k"]


def test_replica_keeps_the_given_version_id(store: MetadataStore, bkt: str) -> None:
    result = put(store, "k", ENABLED, version_id="CAEQsource", replica=True)
    assert result.version.version_id == "CAEQsource"
    again = put(store, "k", ENABLED, version_id="CAEQsource", replica=True, blob="other")
    assert list(again.freed_blob_ids) == ["blob-k"]
    assert store.get_version(bkt, "k", "CAEQsource") == again.version


# --- versions: versioning SUSPENDED -------------------------------------------------


def test_suspended_put_replaces_only_the_null_version(store: MetadataStore, bkt: str) -> None:
    enabled = put(store, "k", ENABLED, blob="e1").version
    n1 = put(store, "k", SUSPENDED, blob="n1")
    assert n1.version.version_id == NULL_VERSION
    assert list(n1.freed_blob_ids) == []
    n2 = put(store, "k", SUSPENDED, blob="n2")
    assert n2.version.version_id == NULL_VERSION
    assert list(n2.freed_blob_ids) == ["n1"]
    kept = store.get_version(bkt, "k", enabled.version_id)
    assert kept is not None and kept.blob_id == "e1" and not kept.is_latest
    latest = store.get_version(bkt, "k", None)
    assert latest is not None and latest.blob_id == "n2" and latest.version_id == NULL_VERSION


def test_object_acl_per_version(store: MetadataStore, bkt: str) -> None:
    v1 = put(store, "k", ENABLED).version
    v2 = put(store, "k", ENABLED).version
    store.set_object_acl(bkt, "k", v1.version_id, ObjectAcl.PUBLIC_READ, 1_700_000_002.0)
    a = store.get_version(bkt, "k", v1.version_id)
    b = store.get_version(bkt, "k", v2.version_id)
    assert a is not None and a.acl is ObjectAcl.PUBLIC_READ
    assert b is not None and b.acl is ObjectAcl.DEFAULT


# --- list_latest ------------------------------------------------------------------------


def _keys(store: MetadataStore, prefix: str = "", after: str = "", limit: int = 1000) -> list[str]:
    return [v.key for v in store.list_latest("bkt", prefix, after, limit)]


def test_list_latest_skips_delete_markers_and_older_versions(store: MetadataStore, bkt: str) -> None:
    put(store, "a", ENABLED)
    put(store, "a", ENABLED)
    put(store, "b", ENABLED)
    put(store, "b", ENABLED, is_delete_marker=True, blob="")
    put(store, "c", OFF)
    listed = store.list_latest(bkt, "", "", 100)
    assert [v.key for v in listed] == ["a", "c"]
    assert all(v.is_latest and not v.is_delete_marker for v in listed)


def test_list_latest_does_not_see_other_buckets(store: MetadataStore, bkt: str) -> None:
    store.create_bucket(bucket("other"))
    store.commit_version(NewVersion(bucket="other", key="x", created_at=1.0), OFF)
    put(store, "y")
    assert _keys(store) == ["y"]


def test_list_latest_prefix_after_and_limit(store: MetadataStore, bkt: str) -> None:
    for k in ["a", "a/1", "a/2", "a0", "ab", "b/1", "b/2"]:
        put(store, k)
    assert _keys(store, prefix="a/") == ["a/1", "a/2"]
    assert _keys(store, prefix="a") == ["a", "a/1", "a/2", "a0", "ab"]
    assert _keys(store, after="a/1") == ["a/2", "a0", "ab", "b/1", "b/2"]
    assert _keys(store, prefix="b/", after="a") == ["b/1", "b/2"]
    assert _keys(store, prefix="a", after="a/2") == ["a0", "ab"]
    assert _keys(store, prefix="a", after="zzz") == []
    assert _keys(store, limit=3) == ["a", "a/1", "a/2"]


UNICODE_KEYS = [
    "a",
    "a\x7f",
    "a\u00e9",
    "a\u07ff",
    "a\u0800",
    "a\ud7ff",
    "a\ue000",  # after the surrogate gap in code points, as in UTF-8
    "a\uffff",
    "a\U00010000",  # above U+FFFF: UTF-16 order would put it before U+E000
    "a\U0001f600",
    "a\U0010fffe",
    "a\U0010ffff",
    "a\U0010ffffz",
    "b",
]


def test_list_latest_is_in_utf8_byte_order(store: MetadataStore, bkt: str) -> None:
    for k in reversed(UNICODE_KEYS):
        put(store, k)
    expected = sorted(UNICODE_KEYS, key=lambda k: k.encode("utf-8"))
    assert expected == UNICODE_KEYS
    assert _keys(store) == expected
    assert _keys(store, after="a\ud7ff") == expected[expected.index("a\ue000") :]
    assert _keys(store, prefix="a\U0010ffff") == ["a\U0010ffff", "a\U0010ffffz"]
    assert _keys(store, prefix="a\ue000") == ["a\ue000"]
    assert _keys(store, prefix="a\U0001f601") == []


def test_list_latest_with_a_prefix_ending_in_the_last_code_point(store: MetadataStore, bkt: str) -> None:
    for k in ["\U0010ffff", "\U0010ffffa", "\U0010ffff\U0010ffff", "\U0010fffe"]:
        put(store, k)
    assert _keys(store, prefix="\U0010ffff") == ["\U0010ffff", "\U0010ffffa", "\U0010ffff\U0010ffff"]


def test_list_latest_lists_keys_of_many_last_code_points(store: MetadataStore, bkt: str) -> None:
    long_key = "\U0010ffff" * 8  # 32 bytes of UTF-8: a valid key
    put(store, long_key)
    put(store, "a")
    assert _keys(store) == ["a", long_key]
    assert _keys(store, prefix="\U0010ffff") == [long_key]


# --- prefix_upper_bound -------------------------------------------------------------------

CODE_POINTS = st.characters(blacklist_categories=("Cs",))
EDGE_CHARS = st.sampled_from(["\U0010ffff", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\x00", "/", "a"])
TEXT = st.text(st.one_of(CODE_POINTS, EDGE_CHARS), max_size=8)


def test_prefix_upper_bound_examples() -> None:
    assert prefix_upper_bound("abc") == "abd"
    assert prefix_upper_bound("a/") == "a0"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("\U0010ffff\U0010ffff") is None
    assert prefix_upper_bound("") is None


@given(prefix=TEXT, suffix=TEXT)
def test_prefix_upper_bound_is_above_every_extension(prefix: str, suffix: str) -> None:
    bound = prefix_upper_bound(prefix)
    if bound is None:
        assert all(c == "\U0010ffff" for c in prefix)
        return
    assert prefix + suffix < bound
    assert (prefix + suffix).encode("utf-8") < bound.encode("utf-8")
    assert not bound.startswith(prefix)


@given(
    prefix=TEXT, cut=st.integers(min_value=0, max_value=8), c=st.one_of(CODE_POINTS, EDGE_CHARS), rest=TEXT
)
def test_the_bound_separates_exactly_the_strings_with_the_prefix(
    prefix: str, cut: int, c: str, rest: str
) -> None:
    # Strings near the prefix: share its first `cut` characters, then differ (or not) at one.
    s = prefix[:cut] + c + rest
    bound = prefix_upper_bound(prefix)
    if bound is None:
        return
    if s >= bound:
        assert not s.startswith(prefix)
    elif s >= prefix:
        # Least upper bound: nothing without the prefix lies between the prefix and the bound.
        assert s.startswith(prefix)


def test_a_failing_follow_up_does_not_leave_a_committed_write_waiting(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "w.sqlite3")
    db.executescript("CREATE TABLE t (v INTEGER)")
    writer = GroupWriter(db)

    def boom(_: object) -> None:
        raise RuntimeError("the event loop is closed")

    first = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)").rowcount, boom)
    assert first.result(timeout=10) == 1
    second = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (2)").rowcount)
    assert second.result(timeout=10) == 1  # the syncer thread is still alive
    assert db.conn().execute("SELECT count(*) FROM t").fetchone()[0] == 2
    writer.close()
