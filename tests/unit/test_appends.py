"""AppendService and SymlinkService over real stores on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ferry.core.checksums import crc64_of
from ferry.core.clock import ManualClock
from ferry.core.encryption import SseAlgorithm
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectType, ObjectVersion, Versioning
from ferry.service.appends import AppendService
from ferry.service.kms import KeyService, decrypt_chunks
from ferry.service.objects import ObjectAttrs
from ferry.service.symlinks import SymlinkService
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.interfaces import NewVersion, ReplicaWrite
from ferry.storage.sqlite_meta import SqliteMetadataStore

PLAIN = Bucket(name="plain", owner_id="o", region="oss-cn-hangzhou", created_at=0.0)
VERSIONED = Bucket(
    name="versioned", owner_id="o", region="oss-cn-hangzhou", created_at=0.0, versioning=Versioning.ENABLED
)


@dataclass
class Env:
    meta: SqliteMetadataStore
    blobs: DiskBlobStore
    kms: KeyService
    appends: AppendService
    symlinks: SymlinkService

    def append(
        self, bucket: Bucket, key: str, position: int, data: bytes, attrs: ObjectAttrs | None = None
    ) -> ObjectVersion:
        plan = self.appends.plan(bucket, key, position)
        writer = self.appends.open_writer(plan)
        writer.write(data)
        return self.appends.commit(plan, writer.finish(), attrs or ObjectAttrs())

    def read(self, version: ObjectVersion) -> bytes:
        chunks = self.blobs.read(version.blob_id, 0, version.size)
        if version.encryption is not None:
            chunks = decrypt_chunks(chunks, self.kms.data_key(version.encryption), version.encryption, 0)
        return b"".join(chunks)

    def blob_count(self) -> int:
        return sum(1 for p in self.blobs.blob_dir.rglob("*") if p.is_file())


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    meta = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    for b in (PLAIN, VERSIONED):
        meta.create_bucket(b)
    blobs = DiskBlobStore(tmp_path / "data")
    kms = KeyService(tmp_path)
    clock = ManualClock()
    yield Env(meta, blobs, kms, AppendService(meta, blobs, kms, clock), SymlinkService(meta, blobs, clock))
    meta.close()


def test_appends_grow_one_object_with_a_combined_crc(env: Env) -> None:
    first = env.append(PLAIN, "log", 0, b"hello", ObjectAttrs(user_meta={"who": "first"}))
    assert (first.object_type, first.size, first.etag) == (
        ObjectType.APPENDABLE,
        5,
        hashlib.md5(b"hello").hexdigest().upper(),
    )
    second = env.append(PLAIN, "log", 5, b" world", ObjectAttrs(user_meta={"who": "ignored"}))
    assert env.read(second) == b"hello world"
    assert second.crc64 == str(crc64_of(b"hello world"))
    assert second.etag != first.etag
    assert dict(second.user_meta) == {"who": "first"}  # headers count on the first append only
    assert env.blob_count() == 1  # the first blob was freed


@pytest.mark.parametrize("position", [0, 3, 6])
def test_a_wrong_position_names_the_next_one(env: Env, position: int) -> None:
    env.append(PLAIN, "log", 0, b"hello")
    with pytest.raises(OssError) as info:
        env.appends.plan(PLAIN, "log", position)
    assert (info.value.code, info.value.status) == ("PositionNotEqualToLength", 409)
    assert ("x-oss-next-append-position", "5") in info.value.headers


def test_a_new_object_starts_at_zero(env: Env) -> None:
    with pytest.raises(OssError) as info:
        env.appends.plan(PLAIN, "new", 4)
    assert ("x-oss-next-append-position", "0") in info.value.headers


def test_normal_objects_are_not_appendable(env: Env) -> None:
    env.meta.commit_version(NewVersion(bucket="plain", key="normal", created_at=1.0), Versioning.OFF)
    with pytest.raises(OssError) as info:
        env.appends.plan(PLAIN, "normal", 0)
    assert (info.value.code, info.value.status) == ("ObjectNotAppendable", 409)


def test_racing_appends_at_one_position_cannot_both_win(env: Env) -> None:
    env.append(PLAIN, "log", 0, b"ab")
    plans = [env.appends.plan(PLAIN, "log", 2), env.appends.plan(PLAIN, "log", 2)]
    writers = [env.appends.open_writer(p) for p in plans]
    for w, data in zip(writers, (b"cd", b"XY"), strict=True):
        w.write(data)
    staged = [w.finish() for w in writers]
    winner = env.appends.commit(plans[0], staged[0], ObjectAttrs())
    with pytest.raises(OssError) as info:
        env.appends.commit(plans[1], staged[1], ObjectAttrs())
    assert info.value.code == "PositionNotEqualToLength"
    assert ("x-oss-next-append-position", "4") in info.value.headers
    assert env.read(winner) == b"abcd"
    assert env.blob_count() == 1  # the loser's blob is gone


def test_encrypted_appends_stay_encrypted_and_read_back(env: Env) -> None:
    plan = env.appends.plan(PLAIN, "sec", 0)
    plan = env.appends.with_encryption(plan, env.kms.new_encryption(SseAlgorithm.AES256, None)[0])
    writer = env.appends.open_writer(plan)
    writer.write(b"0123456789abcdefXYZ")  # not a multiple of the AES block
    first = env.appends.commit(plan, writer.finish(), ObjectAttrs())
    second = env.append(PLAIN, "sec", first.size, b"-more-bytes")
    assert second.encryption == first.encryption
    assert b"0123456789" not in env.blobs.path(second.blob_id).read_bytes()
    assert env.read(second) == b"0123456789abcdefXYZ-more-bytes"


def test_versioned_appends_rewrite_the_current_version_in_place(env: Env) -> None:
    first = env.append(VERSIONED, "log", 0, b"one")
    second = env.append(VERSIONED, "log", 3, b"two")
    assert second.version_id == first.version_id
    assert [v.version_id for v in env.meta.list_versions("versioned", "", "", 10)] == [first.version_id]
    marker = NewVersion(bucket="versioned", key="log", created_at=2.0, is_delete_marker=True)
    env.meta.commit_version(marker, Versioning.ENABLED)
    with pytest.raises(OssError):
        env.appends.plan(VERSIONED, "log", 6)  # after a delete marker a new object starts at 0
    third = env.append(VERSIONED, "log", 0, b"new")
    assert third.version_id != first.version_id
    assert len(env.meta.list_versions("versioned", "", "", 10)) == 3


def test_a_replicated_append_replaces_the_replicas_bytes(env: Env) -> None:
    """A versioned append keeps its version id: the destination must take the new bytes."""
    v1 = NewVersion(
        bucket="versioned", key="k", created_at=1.0, size=3, etag="E1", crc64="1", blob_id="b1",
        version_id="VID", replica=True, object_type="Appendable",
    )  # fmt: skip
    env.meta.commit_replica(v1, Versioning.ENABLED, ReplicaWrite("r/src", seq=10, version_seq=10))
    v2 = NewVersion(
        bucket="versioned", key="k", created_at=2.0, size=6, etag="E2", crc64="2", blob_id="b2",
        version_id="VID", replica=True, object_type="Appendable",
    )  # fmt: skip
    result = env.meta.commit_replica(v2, Versioning.ENABLED, ReplicaWrite("r/src", seq=11, version_seq=11))
    assert result is not None
    assert result.freed_blob_ids == ["b1"]
    now = env.meta.get_version("versioned", "k", None)
    assert now is not None and (now.size, now.etag, now.blob_id, now.version_id) == (6, "E2", "b2", "VID")


def test_symlinks_point_at_the_current_target(env: Env) -> None:
    env.append(PLAIN, "target", 0, b"payload")
    link = env.symlinks.put(PLAIN, "link", "target", ObjectAttrs(user_meta={"m": "link"}))
    assert link.object_type is ObjectType.SYMLINK
    assert link.etag == hashlib.md5(b"target").hexdigest().upper()
    assert env.symlinks.target_of(link) == "target"
    seen = env.symlinks.follow(PLAIN, link)
    assert (seen.view.size, seen.view.etag, seen.view.blob_id) == (7, seen.target.etag, seen.target.blob_id)
    assert (seen.view.key, dict(seen.view.user_meta), seen.view.object_type) == (
        "link",
        {"m": "link"},
        ObjectType.SYMLINK,
    )
    env.append(PLAIN, "target", 7, b"++")
    assert env.symlinks.follow(PLAIN, link).view.size == 9


def test_symlink_errors(env: Env) -> None:
    link = env.symlinks.put(PLAIN, "dangling", "nowhere", ObjectAttrs())
    with pytest.raises(OssError) as info:
        env.symlinks.follow(PLAIN, link)
    assert info.value.code == "NoSuchKey"
    chain = env.symlinks.put(PLAIN, "chain", "dangling", ObjectAttrs())
    with pytest.raises(OssError) as info:
        env.symlinks.follow(PLAIN, chain)
    assert info.value.code == "InvalidTargetType"
    normal = env.append(PLAIN, "normal", 0, b"x")
    with pytest.raises(OssError) as info:
        env.symlinks.target_of(normal)
    assert info.value.code == "NotSymlink"
    env.symlinks.put(PLAIN, "once", "x", ObjectAttrs(), forbid_overwrite=True)
    with pytest.raises(OssError) as info:
        env.symlinks.put(PLAIN, "once", "y", ObjectAttrs(), forbid_overwrite=True)
    assert info.value.code == "FileAlreadyExists"
