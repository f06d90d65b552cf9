"""A big object's cross-region replica as a multipart upload: the source's side (RemoteTarget
sending Initiate / UploadPart by ranges / Complete) and the destination's (ReplicaUploads over
real stores on disk: reuse on retry, removal of stale and finished uploads, byte checks)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from ferry.client.oss_client import ClientResponse, OssClient
from ferry.client.replica_target import MAX_PARTS, RemoteTarget, part_size_for
from ferry.core.checksums import crc64_of
from ferry.core.clock import ManualClock
from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import Bucket, ObjectAcl, ObjectVersion
from ferry.core.multipart import MultipartUpload, Part
from ferry.protocol import replica_wire
from ferry.replication.targets import ReplicaSource
from ferry.service.kms import KeyService
from ferry.service.multipart import MultipartService
from ferry.service.objects import ObjectAttrs
from ferry.service.replica_uploads import (
    REPLICA_UPLOAD_PREFIX,
    ReplicaUploads,
    parts_making,
    replica_upload_id,
)
from ferry.service.replicas import ReplicaAttrs, ReplicaService
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.interfaces import ReplicaWrite
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_multipart import SqliteMultipartStore

BUCKET = Bucket(name="dst", owner_id="owner", region="oss-cn-beijing", created_at=0.0)
SOURCE = "oss-cn-hangzhou/src"
KIB = 1024

# --- pure logic ------------------------------------------------------------------------


def _part(number: int, size: int) -> Part:
    return Part(
        part_number=number, size=size, etag=f"e{number}", crc64=0, blob_id=f"b{number}", created_at=0.0
    )


def test_parts_making_takes_parts_from_one_until_the_size_and_ignores_those_beyond() -> None:
    stored = {n: _part(n, 10) for n in (1, 2, 3, 4, 5)}
    assert [p.part_number for p in parts_making(stored, 30) or []] == [1, 2, 3]
    assert parts_making({1: _part(1, 10), 3: _part(3, 10)}, 20) is None  # part 2 is missing
    assert parts_making({1: _part(1, 10), 2: _part(2, 10)}, 15) is None  # does not add up
    assert parts_making({}, 10) is None


def test_part_size_grows_so_that_no_object_needs_more_than_max_parts() -> None:
    assert part_size_for(5 * 1024 * KIB, 1024 * KIB) == 1024 * KIB
    huge = 50 * 1024 * 1024 * KIB
    size = part_size_for(huge, 1024 * KIB)
    assert size > 1024 * KIB and -(-huge // size) <= MAX_PARTS


def test_the_upload_id_is_the_changes_own() -> None:
    origin = ReplicaWrite(source=SOURCE, seq=7, version_seq=0)
    one = replica_upload_id("dst", "k", origin, '"etag"', "123")
    assert one == replica_upload_id("dst", "k", origin, '"etag"', "123")
    assert one.startswith(REPLICA_UPLOAD_PREFIX) and len(one) == 32
    later = ReplicaWrite(source=SOURCE, seq=8, version_seq=0)
    assert replica_upload_id("dst", "k", later, '"etag"', "123") != one
    # The same source: the same 8 characters after the prefix (how its older uploads are found).
    assert replica_upload_id("dst", "k", later, '"etag"', "123")[:10] == one[:10]
    other = ReplicaWrite(source="oss-cn-shanghai/src", seq=7, version_seq=0)
    assert replica_upload_id("dst", "k", other, '"etag"', "123")[:10] != one[:10]


def test_parts_travel_as_a_header() -> None:
    assert replica_wire.encode_parts({2: 5, 1: 10}) == "1:10,2:5"
    assert replica_wire.decode_parts("1:10,2:5") == {1: 10, 2: 5}
    assert replica_wire.decode_parts("") == {}
    assert replica_wire.decode_parts("1:10,junk,x:1") == {1: 10}


# --- the source's side: RemoteTarget ----------------------------------------------------


@dataclass
class Sent:
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingClient:
    """Answers like a destination that holds ``held`` parts of the upload already."""

    held: Mapping[int, int] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def request(
        self,
        method: str,
        bucket: str,
        key: str | None = None,
        *,
        query: list[tuple[str, str]] | tuple[()] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | BinaryIO = b"",
        content_length: int | None = None,
    ) -> ClientResponse:
        data = body if isinstance(body, bytes) else body.read()
        if content_length is not None:
            assert len(data) == content_length
        self.sent.append(Sent(method, dict(query), dict(headers or {}), data))
        answer: dict[str, str] = {}
        if method == "POST" and "uploads" in dict(query):
            answer = {
                replica_wire.UPLOAD_ID: "FRUPLOAD",
                replica_wire.PARTS: replica_wire.encode_parts(self.held),
            }
        return ClientResponse(200, answer, b"")


def _send(data: bytes, held: Mapping[int, int], threshold: int, part: int) -> RecordingClient:
    client = RecordingClient(held)
    target = RemoteTarget(
        cast(OssClient, client),
        lambda bucket: ReplicaActor("acct-1", "role-1"),
        multipart_threshold=threshold,
        part_size=part,
    )
    version = ObjectVersion(
        bucket="src",
        key="big",
        version_id="null",
        seq=3,
        created_at=0.0,
        is_latest=True,
        is_delete_marker=False,
        size=len(data),
        etag='"e"',
        crc64=str(crc64_of(data)),
        blob_id="blob",
        content_headers={"content-type": "application/x-big"},
        user_meta={"owner": "a"},
        acl=ObjectAcl.PUBLIC_READ,
        tags={"t": "1"},
    )

    def open_at(offset: int) -> BinaryIO:
        stream = io.BytesIO(data)
        stream.seek(offset)
        return stream

    target.put("dst", ReplicaSource(version, open_at), ReplicaWrite(source=SOURCE, seq=3, version_seq=0))
    return client


def test_a_big_object_goes_as_initiate_ranged_parts_and_complete() -> None:
    data = os.urandom(1000 * KIB + 5)
    client = _send(data, {}, threshold=300 * KIB, part=300 * KIB)
    initiate, *parts, complete = client.sent
    assert (initiate.method, initiate.query) == ("POST", {"uploads": ""})
    assert (
        initiate.headers["x-oss-meta-owner"] == "a"
        and initiate.headers["content-type"] == "application/x-big"
    )
    assert [p.query for p in parts] == [{"partNumber": str(n), "uploadId": "FRUPLOAD"} for n in (1, 2, 3, 4)]
    assert [len(p.body) for p in parts] == [300 * KIB, 300 * KIB, 300 * KIB, 100 * KIB + 5]
    assert b"".join(p.body for p in parts) == data
    for p in parts:  # a part carries what routes and authorizes it, not the replica's metadata
        assert p.method == "PUT" and p.headers[replica_wire.SEQ] == "3"
        assert p.headers[replica_wire.ACCOUNT] == "acct-1" and p.headers[replica_wire.ROLE] == "role-1"
        assert "x-oss-meta-owner" not in p.headers
    assert (complete.method, complete.query) == ("POST", {"uploadId": "FRUPLOAD"})
    assert complete.headers[replica_wire.SIZE] == str(len(data))
    assert complete.headers[replica_wire.CRC64] == str(crc64_of(data))
    assert (
        complete.headers["x-oss-meta-owner"] == "a" and complete.headers["x-oss-object-acl"] == "public-read"
    )


def test_a_retry_sends_only_the_parts_the_destination_lacks() -> None:
    data = os.urandom(1000 * KIB + 5)
    # Part 2 arrived whole before; part 3 only partly (its size differs): it goes again.
    client = _send(data, {1: 300 * KIB, 2: 300 * KIB, 3: 7}, threshold=300 * KIB, part=300 * KIB)
    parts = [s for s in client.sent if s.method == "PUT"]
    assert [p.query["partNumber"] for p in parts] == ["3", "4"]
    assert parts[0].body == data[600 * KIB : 900 * KIB] and parts[1].body == data[900 * KIB :]


def test_an_object_at_the_threshold_goes_as_one_put() -> None:
    data = os.urandom(300 * KIB)
    client = _send(data, {}, threshold=300 * KIB, part=100 * KIB)
    assert [(s.method, s.query) for s in client.sent] == [("PUT", {})]
    assert client.sent[0].body == data


# --- the destination's side: ReplicaUploads ---------------------------------------------


@dataclass
class Env:
    meta: SqliteMetadataStore
    uploads: SqliteMultipartStore
    blobs: DiskBlobStore
    clock: ManualClock
    service: ReplicaUploads

    def send(self, upload: MultipartUpload, number: int, data: bytes) -> Part:
        writer = self.blobs.open_writer(None)
        writer.write(data)
        return self.service.add_part(upload, number, writer.finish(), "")

    def blob_files(self) -> set[str]:
        return {p.name for p in self.blobs.blob_dir.rglob("*") if p.is_file()}

    def upload_ids(self) -> list[str]:
        return [u.upload_id for u in self.uploads.list_uploads(BUCKET.name, "", "", "", 100)]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    meta = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    meta.create_bucket(BUCKET)
    uploads = SqliteMultipartStore(meta.db)
    blobs = DiskBlobStore(tmp_path / "data")
    clock = ManualClock()
    multipart = MultipartService(meta, uploads, blobs, KeyService(tmp_path), clock)
    replicas = ReplicaService(meta, blobs, clock)
    yield Env(meta, uploads, blobs, clock, ReplicaUploads(uploads, multipart, replicas, blobs, clock))
    meta.close()


P1, P2 = os.urandom(100 * KIB), os.urandom(3 * KIB + 1)
DATA = P1 + P2


def _attrs(data: bytes = DATA, **kw: object) -> ReplicaAttrs:
    base: dict[str, object] = dict(
        etag='"source-etag"',
        crc64=str(crc64_of(data)),
        version_id=None,
        acl=ObjectAcl.PUBLIC_READ,
        content_headers={"content-type": "application/x-big"},
        user_meta={"owner": "a"},
        tags={"t": "1"},
    )
    base.update(kw)
    return ReplicaAttrs(**base)  # type: ignore[arg-type]


def _origin(seq: int) -> ReplicaWrite:
    return ReplicaWrite(source=SOURCE, seq=seq, version_seq=0)


def test_a_completed_upload_is_the_replica_and_is_gone(env: Env) -> None:
    before = env.blob_files()
    upload, held = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    assert held == {}
    env.send(upload, 1, P1)
    env.send(upload, 2, P2)
    assert env.service.complete(BUCKET, "k", upload.upload_id, _attrs(), _origin(1), len(DATA)) is True
    version = env.meta.get_version(BUCKET.name, "k", None)
    assert version is not None
    assert version.etag == '"source-etag"' and version.crc64 == str(crc64_of(DATA))
    assert version.user_meta == {"owner": "a"} and version.tags == {"t": "1"}
    assert version.acl is ObjectAcl.PUBLIC_READ and version.content_headers == {
        "content-type": "application/x-big"
    }
    assert b"".join(env.blobs.read(version.blob_id, 0, version.size)) == DATA
    assert env.upload_ids() == []
    assert env.blob_files() - before == {version.blob_id}  # the part blobs are freed


def test_a_retry_finds_its_upload_and_the_parts_it_holds(env: Env) -> None:
    upload, _ = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    env.send(upload, 1, P1)
    # The task failed here (the source died, the connection broke); its retry:
    again, held = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    assert again.upload_id == upload.upload_id and held == {1: len(P1)}
    with pytest.raises(OssError) as missing:  # part 2 never came: nothing is dropped
        env.service.complete(BUCKET, "k", upload.upload_id, _attrs(), _origin(1), len(DATA))
    assert missing.value.code == "InvalidPart" and env.upload_ids() == [upload.upload_id]
    env.send(again, 2, P2)
    assert env.service.complete(BUCKET, "k", upload.upload_id, _attrs(), _origin(1), len(DATA)) is True
    assert env.upload_ids() == []


def test_a_later_change_aborts_the_older_changes_upload(env: Env) -> None:
    old, _ = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    env.send(old, 1, P1)
    new, held = env.service.begin(BUCKET, "k", _attrs(), _origin(2), None)
    assert held == {} and env.upload_ids() == [new.upload_id]


def test_an_older_change_completing_after_a_newer_one_applies_nothing(env: Env) -> None:
    newer = os.urandom(200 * KIB)
    upload, _ = env.service.begin(BUCKET, "k", _attrs(newer), _origin(5), None)
    env.send(upload, 1, newer)
    assert env.service.complete(BUCKET, "k", upload.upload_id, _attrs(newer), _origin(5), len(newer))
    stale, _ = env.service.begin(BUCKET, "k", _attrs(), _origin(4), None)
    env.send(stale, 1, P1)
    env.send(stale, 2, P2)
    assert env.service.complete(BUCKET, "k", stale.upload_id, _attrs(), _origin(4), len(DATA)) is False
    version = env.meta.get_version(BUCKET.name, "k", None)
    assert version is not None and b"".join(env.blobs.read(version.blob_id, 0, version.size)) == newer
    assert env.upload_ids() == []


def test_parts_that_do_not_match_the_sources_crc_are_dropped_with_their_upload(env: Env) -> None:
    upload, _ = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    env.send(upload, 1, P1)
    env.send(upload, 2, b"x" * len(P2))
    with pytest.raises(OssError) as bad:
        env.service.complete(BUCKET, "k", upload.upload_id, _attrs(), _origin(1), len(DATA))
    assert bad.value.code == "InvalidDigest"
    assert env.upload_ids() == [] and env.meta.get_version(BUCKET.name, "k", None) is None


def test_only_replica_uploads_are_reachable_and_swept(env: Env) -> None:
    ordinary = MultipartService(env.meta, env.uploads, env.blobs, KeyService(env.blobs.blob_dir), env.clock)
    users = ordinary.initiate(BUCKET, "k", ObjectAttrs(), encryption=None)
    with pytest.raises(OssError):
        env.service.require(BUCKET, "k", users.upload_id)
    left, _ = env.service.begin(BUCKET, "k", _attrs(), _origin(1), None)
    env.clock.advance(100.0)
    assert env.service.sweep(env.clock.now() - 200.0) == 0
    assert env.service.sweep(env.clock.now() - 50.0) == 1
    assert env.upload_ids() == [users.upload_id]  # the user's own upload is not touched
    assert left.upload_id not in env.upload_ids()
