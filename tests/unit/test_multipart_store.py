"""The multipart store (SQLite) and how completion commits through the metadata store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectChange, ObjectType, Versioning
from ferry.core.multipart import MultipartUpload, Part, UploadClaim
from ferry.storage.interfaces import NewVersion
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_multipart import SqliteMultipartStore

BKT = "bkt"


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[SqliteMetadataStore]:
    store = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    store.create_bucket(Bucket(name=BKT, owner_id="o", region="oss-cn-hangzhou", created_at=0.0))
    yield store
    store.close()


@pytest.fixture
def uploads(meta: SqliteMetadataStore) -> SqliteMultipartStore:
    return SqliteMultipartStore(meta.db)


def upload(upload_id: str, key: str = "k") -> MultipartUpload:
    return MultipartUpload(upload_id=upload_id, bucket=BKT, key=key, initiated_at=1.0, user_meta={"a": "b"})


def part(number: int, blob: str, size: int = 10) -> Part:
    return Part(number, size, "E" * 32, 123, blob, 2.0)


def test_upload_round_trip(uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    got = uploads.get_upload(BKT, "k", "U1")
    assert got == upload("U1")
    assert uploads.get_upload(BKT, "other-key", "U1") is None  # an upload belongs to its key
    assert uploads.get_upload(BKT, "k", "nope") is None


def test_no_upload_for_a_bucket_that_is_gone(
    meta: SqliteMetadataStore, uploads: SqliteMultipartStore
) -> None:
    meta.delete_bucket(BKT)
    with pytest.raises(OssError) as info:
        uploads.create_upload(upload("U1"))
    assert info.value.code == "NoSuchBucket"


def test_a_part_uploaded_again_replaces_the_first_and_frees_its_blob(uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    assert uploads.put_part(BKT, "k", "U1", part(1, "b1")) == []
    assert uploads.put_part(BKT, "k", "U1", part(1, "b1-again")) == ["b1"]
    [only] = uploads.list_parts("U1", 0, 10)
    assert only.blob_id == "b1-again"
    assert only.crc64 == 123


def test_parts_of_a_missing_upload_are_refused(uploads: SqliteMultipartStore) -> None:
    with pytest.raises(OssError) as info:
        uploads.put_part(BKT, "k", "missing", part(1, "b"))
    assert info.value.code == "NoSuchUpload"


def test_in_order_uploads_refuse_a_gap(uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    uploads.put_part(BKT, "k", "U1", part(1, "b1"), in_order=True)
    with pytest.raises(OssError) as info:
        uploads.put_part(BKT, "k", "U1", part(3, "b3"), in_order=True)
    assert info.value.code == "PartNotSequential"
    uploads.put_part(BKT, "k", "U1", part(2, "b2"), in_order=True)
    uploads.put_part(BKT, "k", "U1", part(1, "b1x"), in_order=True)  # again: allowed


def test_list_parts_pages_by_number(uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    for n in (9, 1, 5, 3):
        uploads.put_part(BKT, "k", "U1", part(n, f"b{n}"))
    assert [p.part_number for p in uploads.list_parts("U1", 0, 2)] == [1, 3]
    assert [p.part_number for p in uploads.list_parts("U1", 3, 10)] == [5, 9]


def test_list_uploads_by_key_then_id_after_a_cursor(uploads: SqliteMultipartStore) -> None:
    for uid, key in (("B2", "b"), ("A1", "a"), ("B1", "b"), ("C1", "c"), ("X1", "x/y")):
        uploads.create_upload(upload(uid, key))

    def ids(prefix: str, key: str, uid: str) -> list[str]:
        return [u.upload_id for u in uploads.list_uploads(BKT, prefix, key, uid, 100)]

    assert ids("", "", "") == ["A1", "B1", "B2", "C1", "X1"]
    assert ids("", "b", "B1") == ["B2", "C1", "X1"]
    assert ids("", "b", "~") == ["C1", "X1"]
    assert ids("x/", "", "") == ["X1"]


def test_abort_removes_the_upload_and_returns_its_part_blobs(uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    uploads.put_part(BKT, "k", "U1", part(1, "b1"))
    uploads.put_part(BKT, "k", "U1", part(2, "b2"))
    assert sorted(uploads.abort_upload(BKT, "k", "U1")) == ["b1", "b2"]
    assert uploads.get_upload(BKT, "k", "U1") is None
    with pytest.raises(OssError) as info:
        uploads.abort_upload(BKT, "k", "U1")
    assert info.value.code == "NoSuchUpload"


def completed(key: str = "k") -> NewVersion:
    return NewVersion(
        bucket=BKT, key=key, created_at=3.0, size=20, etag="X-2", blob_id="whole", object_type="Multipart"
    )


def test_completion_commits_the_version_and_consumes_the_upload_in_one_transaction(
    meta: SqliteMetadataStore, uploads: SqliteMultipartStore
) -> None:
    seen: list[ObjectChange] = []

    def hook(db: sqlite3.Connection, change: ObjectChange) -> bool:
        # Inside the transaction: the upload is already gone, the version is there.
        assert db.execute("SELECT count(*) FROM multipart_uploads").fetchone()[0] == 0
        seen.append(change)
        return False

    meta.add_change_hook(hook, lambda: None)
    uploads.create_upload(upload("U1"))
    uploads.put_part(BKT, "k", "U1", part(1, "b1"))
    uploads.put_part(BKT, "k", "U1", part(2, "b2"))
    uploads.put_part(BKT, "k", "U1", part(3, "unused"))
    assert meta.bucket_stats(BKT).multipart_upload_count == 1
    claim = UploadClaim(BKT, "k", "U1", {1: "b1", 2: "b2"})
    result = meta.commit_version(completed(), Versioning.OFF, upload=claim)
    assert result.version.object_type is ObjectType.MULTIPART
    assert sorted(result.freed_blob_ids) == ["b1", "b2", "unused"]
    assert [c.version.key for c in seen] == ["k"]
    assert uploads.get_upload(BKT, "k", "U1") is None
    assert meta.bucket_stats(BKT).multipart_upload_count == 0


def test_a_stale_claim_commits_nothing(meta: SqliteMetadataStore, uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    uploads.put_part(BKT, "k", "U1", part(1, "b1"))
    uploads.put_part(BKT, "k", "U1", part(1, "b1-newer"))  # re-uploaded while completing
    with pytest.raises(OssError) as info:
        meta.commit_version(completed(), Versioning.OFF, upload=UploadClaim(BKT, "k", "U1", {1: "b1"}))
    assert info.value.code == "InvalidPart"
    assert meta.get_version(BKT, "k", None) is None
    assert uploads.get_upload(BKT, "k", "U1") is not None
    uploads.abort_upload(BKT, "k", "U1")
    with pytest.raises(OssError) as info:
        meta.commit_version(completed(), Versioning.OFF, upload=UploadClaim(BKT, "k", "U1", {1: "b1-newer"}))
    assert info.value.code == "NoSuchUpload"
    assert meta.get_version(BKT, "k", None) is None


def test_a_bucket_with_uploads_is_not_empty(meta: SqliteMetadataStore, uploads: SqliteMultipartStore) -> None:
    uploads.create_upload(upload("U1"))
    with pytest.raises(OssError) as info:
        meta.delete_bucket(BKT)
    assert info.value.code == "BucketNotEmpty"
    uploads.abort_upload(BKT, "k", "U1")
    meta.delete_bucket(BKT)
    assert meta.get_bucket(BKT) is None


def test_expect_latest_guards_a_read_modify_write(meta: SqliteMetadataStore) -> None:
    first = meta.commit_version(completed("a"), Versioning.OFF, expect_latest=0).version
    with pytest.raises(OssError) as info:
        meta.commit_version(completed("a"), Versioning.OFF, expect_latest=0)
    assert info.value.code == "PreconditionFailed"
    second = meta.commit_version(completed("a"), Versioning.OFF, expect_latest=first.seq).version
    assert second.seq > first.seq
    marker = NewVersion(bucket=BKT, key="a", created_at=4.0, is_delete_marker=True)
    meta.commit_version(marker, Versioning.ENABLED)
    meta.commit_version(completed("a"), Versioning.ENABLED, expect_latest=0)  # a delete marker counts as none
