"""Bucket and object APIs of issue 2, driven through the real SDKs.

Most tests run four times, once per client: oss2 with V1 and V4 signatures,
alibabacloud-oss-v2 with V4 and V1.  Each SDK is wrapped in a small adapter
(:class:`Client`) so one test body states the behaviour once; the adapters
call the SDKs' own methods, keep their CRC-64 checks on, and turn SDK
exceptions into :class:`SdkError` (HTTP status + OSS code).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import alibabacloud_oss_v2 as v2
import crcmod
import oss2
import pytest
import requests

from tests.integration.harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    FerryCluster,
    unique_bucket,
)

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)

SPECIAL_KEYS = [
    "plain.txt",
    "dir/sub/leaf.bin",
    "with space.txt",
    "plus+sign",
    "percent%41literal%2F",
    "unicode-中文-ü-😀.dat",
    "question?mark",
    "hash#tag",
    "mixed dir/a b+c%20?d#e/ünï",
]


# --- adapters -----------------------------------------------------------------


class SdkError(Exception):
    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes = b""


@dataclass
class Listing:
    keys: list[str]
    prefixes: list[str]
    truncated: bool
    next: str
    """NextMarker (v1) or NextContinuationToken (v2)."""


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(headers).items()}


class Client:
    """What a test needs from an SDK; one subclass per SDK."""

    name = ""

    def create_bucket(self, bucket: str, acl: str | None = None) -> None: ...
    def delete_bucket(self, bucket: str) -> None: ...
    def list_bucket_names(self, prefix: str) -> list[str]: ...
    def bucket_info(self, bucket: str) -> dict[str, str]: ...
    def location(self, bucket: str) -> str: ...
    def stat(self, bucket: str) -> tuple[int, int]: ...
    def put_bucket_acl(self, bucket: str, acl: str) -> None: ...
    def get_bucket_acl(self, bucket: str) -> str: ...
    def put(self, bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Reply: ...
    def get(
        self,
        bucket: str,
        key: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply: ...
    def head(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> Reply: ...
    def meta(self, bucket: str, key: str) -> Reply: ...
    def delete(self, bucket: str, key: str) -> None: ...
    def copy(
        self, src_bucket: str, src_key: str, bucket: str, key: str, headers: dict[str, str]
    ) -> Reply: ...
    def put_object_acl(self, bucket: str, key: str, acl: str) -> None: ...
    def get_object_acl(self, bucket: str, key: str) -> str: ...
    def delete_many(self, bucket: str, keys: list[str], quiet: bool) -> list[str]: ...
    def list_v1(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 100
    ) -> Listing: ...
    def list_v2(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        token: str = "",
        max_keys: int = 100,
    ) -> Listing: ...
    def presign_get(self, bucket: str, key: str) -> str: ...


class Oss2Client(Client):
    def __init__(self, cluster: FerryCluster, v4: bool) -> None:
        self.cluster, self.v4 = cluster, v4
        self.name = "oss2-v4" if v4 else "oss2-v1"

    def b(self, bucket: str) -> oss2.Bucket:
        b = self.cluster.oss2_bucket(bucket, v4=self.v4)
        assert b.enable_crc
        return b

    @staticmethod
    def _call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except oss2.exceptions.OssError as e:
            raise SdkError(e.status, e.code, _lower(e.headers)) from e

    def create_bucket(self, bucket: str, acl: str | None = None) -> None:
        self._call(lambda: self.b(bucket).create_bucket(acl))

    def delete_bucket(self, bucket: str) -> None:
        self._call(lambda: self.b(bucket).delete_bucket())

    def list_bucket_names(self, prefix: str) -> list[str]:
        service = self.cluster.oss2_service(v4=self.v4)
        return [b.name for b in oss2.BucketIterator(service, prefix=prefix, max_keys=2)]

    def bucket_info(self, bucket: str) -> dict[str, str]:
        info = self._call(lambda: self.b(bucket).get_bucket_info())
        return {
            "name": info.name,
            "location": info.location,
            "acl": info.acl.grant,
            "extranet": info.extranet_endpoint,
            "storage_class": info.storage_class,
        }

    def location(self, bucket: str) -> str:
        return str(self._call(lambda: self.b(bucket).get_bucket_location()).location)

    def stat(self, bucket: str) -> tuple[int, int]:
        s = self._call(lambda: self.b(bucket).get_bucket_stat())
        return s.storage_size_in_bytes, s.object_count

    def put_bucket_acl(self, bucket: str, acl: str) -> None:
        self._call(lambda: self.b(bucket).put_bucket_acl(acl))

    def get_bucket_acl(self, bucket: str) -> str:
        return str(self._call(lambda: self.b(bucket).get_bucket_acl()).acl)

    def put(self, bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Reply:
        r = self._call(lambda: self.b(bucket).put_object(key, data, headers=headers))
        return Reply(r.status, _lower(r.headers))

    def get(
        self,
        bucket: str,
        key: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        r = self._call(lambda: self.b(bucket).get_object(key, headers=headers, params=params))
        body = r.read()
        if r.status == 200 and "content-range" not in _lower(r.headers):
            # oss2 computes the CRC-64 of what it read; it must equal the server's header.
            assert r.server_crc is not None
            assert r.client_crc == r.server_crc
        return Reply(r.status, _lower(r.headers), body)

    def head(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> Reply:
        r = self._call(lambda: self.b(bucket).head_object(key, headers=headers))
        return Reply(r.status, _lower(r.headers))

    def meta(self, bucket: str, key: str) -> Reply:
        r = self._call(lambda: self.b(bucket).get_object_meta(key))
        return Reply(r.status, _lower(r.headers))

    def delete(self, bucket: str, key: str) -> None:
        self._call(lambda: self.b(bucket).delete_object(key))

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str, headers: dict[str, str]) -> Reply:
        r = self._call(lambda: self.b(bucket).copy_object(src_bucket, src_key, key, headers=headers))
        return Reply(r.status, _lower(r.headers))

    def put_object_acl(self, bucket: str, key: str, acl: str) -> None:
        self._call(lambda: self.b(bucket).put_object_acl(key, acl))

    def get_object_acl(self, bucket: str, key: str) -> str:
        return str(self._call(lambda: self.b(bucket).get_object_acl(key)).acl)

    def delete_many(self, bucket: str, keys: list[str], quiet: bool) -> list[str]:
        if quiet:
            # oss2's batch_delete_objects is never quiet: send a quiet document through its plumbing.
            b = self.b(bucket)
            data = oss2.xml_utils.to_batch_delete_objects_request(keys, True)
            resp = self._call(
                lambda: b._Bucket__do_bucket(
                    "POST",
                    data=data,
                    params={"delete": "", "encoding-type": "url"},
                    headers={"Content-MD5": oss2.utils.content_md5(data)},
                )
            )
            r = b._parse_result(
                resp, oss2.xml_utils.parse_batch_delete_objects, oss2.models.BatchDeleteObjectsResult
            )
            return list(r.deleted_keys)
        r = self._call(lambda: self.b(bucket).batch_delete_objects(keys))
        return list(r.deleted_keys)

    def list_v1(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 100
    ) -> Listing:
        r = self._call(lambda: self.b(bucket).list_objects(prefix, delimiter, marker, max_keys))
        return Listing([o.key for o in r.object_list], list(r.prefix_list), r.is_truncated, r.next_marker)

    def list_v2(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        token: str = "",
        max_keys: int = 100,
    ) -> Listing:
        r = self._call(
            lambda: self.b(bucket).list_objects_v2(
                prefix, delimiter, continuation_token=token, start_after=start_after, max_keys=max_keys
            )
        )
        return Listing(
            [o.key for o in r.object_list], list(r.prefix_list), r.is_truncated, r.next_continuation_token
        )

    def presign_get(self, bucket: str, key: str) -> str:
        return str(self.b(bucket).sign_url("GET", key, 60))


class V2Client(Client):
    def __init__(self, cluster: FerryCluster, v1: bool) -> None:
        self.client = cluster.v2_client(v1=v1)
        self.name = "v2-v1" if v1 else "v2-v4"
        flags = self.client._client._options.feature_flags
        crc_checks = v2.defaults.FF_ENABLE_CRC64_CHECK_UPLOAD | v2.defaults.FF_ENABLE_CRC64_CHECK_DOWNLOAD
        assert flags & crc_checks == crc_checks

    @staticmethod
    def _call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except v2.exceptions.OperationError as e:
            inner = e.unwrap()
            if isinstance(inner, v2.exceptions.ServiceError):
                raise SdkError(inner.status_code, inner.code, _lower(inner.headers or {})) from e
            raise

    def create_bucket(self, bucket: str, acl: str | None = None) -> None:
        self._call(lambda: self.client.put_bucket(v2.PutBucketRequest(bucket=bucket, acl=acl)))

    def delete_bucket(self, bucket: str) -> None:
        self._call(lambda: self.client.delete_bucket(v2.DeleteBucketRequest(bucket=bucket)))

    def list_bucket_names(self, prefix: str) -> list[str]:
        names: list[str] = []
        for page in self.client.list_buckets_paginator(limit=2).iter_page(
            v2.ListBucketsRequest(prefix=prefix)
        ):
            names += [b.name for b in page.buckets or []]
        return names

    def bucket_info(self, bucket: str) -> dict[str, str]:
        r = self._call(lambda: self.client.get_bucket_info(v2.GetBucketInfoRequest(bucket=bucket)))
        info = r.bucket_info
        return {
            "name": info.name,
            "location": info.location,
            "acl": info.acl,
            "extranet": info.extranet_endpoint,
            "storage_class": info.storage_class,
        }

    def location(self, bucket: str) -> str:
        r = self._call(lambda: self.client.get_bucket_location(v2.GetBucketLocationRequest(bucket=bucket)))
        return str(r.location)

    def stat(self, bucket: str) -> tuple[int, int]:
        r = self._call(lambda: self.client.get_bucket_stat(v2.GetBucketStatRequest(bucket=bucket)))
        return r.storage, r.object_count

    def put_bucket_acl(self, bucket: str, acl: str) -> None:
        self._call(lambda: self.client.put_bucket_acl(v2.PutBucketAclRequest(bucket=bucket, acl=acl)))

    def get_bucket_acl(self, bucket: str) -> str:
        r = self._call(lambda: self.client.get_bucket_acl(v2.GetBucketAclRequest(bucket=bucket)))
        return str(r.acl)

    def put(self, bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Reply:
        req = v2.PutObjectRequest(bucket=bucket, key=key, body=data, headers=dict(headers or {}))
        r = self._call(lambda: self.client.put_object(req))
        return Reply(r.status_code, _lower(r.headers))

    def get(
        self,
        bucket: str,
        key: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        req = v2.GetObjectRequest(
            bucket=bucket, key=key, headers=dict(headers or {}), parameters=dict(params or {})
        )
        r = self._call(lambda: self.client.get_object(req))
        body = r.body.content if r.body is not None else b""
        return Reply(r.status_code, _lower(r.headers), body)

    def head(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> Reply:
        req = v2.HeadObjectRequest(bucket=bucket, key=key, headers=dict(headers or {}))
        r = self._call(lambda: self.client.head_object(req))
        return Reply(r.status_code, _lower(r.headers))

    def meta(self, bucket: str, key: str) -> Reply:
        r = self._call(lambda: self.client.get_object_meta(v2.GetObjectMetaRequest(bucket=bucket, key=key)))
        return Reply(r.status_code, _lower(r.headers))

    def delete(self, bucket: str, key: str) -> None:
        self._call(lambda: self.client.delete_object(v2.DeleteObjectRequest(bucket=bucket, key=key)))

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str, headers: dict[str, str]) -> Reply:
        req = v2.CopyObjectRequest(
            bucket=bucket, key=key, source_bucket=src_bucket, source_key=src_key, headers=dict(headers)
        )
        r = self._call(lambda: self.client.copy_object(req))
        return Reply(r.status_code, _lower(r.headers))

    def put_object_acl(self, bucket: str, key: str, acl: str) -> None:
        self._call(
            lambda: self.client.put_object_acl(v2.PutObjectAclRequest(bucket=bucket, key=key, acl=acl))
        )

    def get_object_acl(self, bucket: str, key: str) -> str:
        r = self._call(lambda: self.client.get_object_acl(v2.GetObjectAclRequest(bucket=bucket, key=key)))
        return str(r.acl)

    def delete_many(self, bucket: str, keys: list[str], quiet: bool) -> list[str]:
        req = v2.DeleteMultipleObjectsRequest(
            bucket=bucket,
            objects=[v2.DeleteObject(key=k) for k in keys],
            quiet=quiet,
            encoding_type="url",
        )
        r = self._call(lambda: self.client.delete_multiple_objects(req))
        return [d.key for d in r.deleted_objects or []]

    def list_v1(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 100
    ) -> Listing:
        req = v2.ListObjectsRequest(
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            marker=marker,
            max_keys=max_keys,
            encoding_type="url",
        )
        r = self._call(lambda: self.client.list_objects(req))
        return Listing(
            [o.key for o in r.contents or []],
            [p.prefix for p in r.common_prefixes or []],
            bool(r.is_truncated),
            r.next_marker or "",
        )

    def list_v2(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        token: str = "",
        max_keys: int = 100,
    ) -> Listing:
        req = v2.ListObjectsV2Request(
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after or None,
            continuation_token=token or None,
            max_keys=max_keys,
            encoding_type="url",
        )
        r = self._call(lambda: self.client.list_objects_v2(req))
        return Listing(
            [o.key for o in r.contents or []],
            [p.prefix for p in r.common_prefixes or []],
            bool(r.is_truncated),
            r.next_continuation_token or "",
        )

    def presign_get(self, bucket: str, key: str) -> str:
        r = self.client.presign(v2.GetObjectRequest(bucket=bucket, key=key))
        assert r.method == "GET"
        return str(r.url)


CLIENTS = ["oss2-v1", "oss2-v4", "v2-v4", "v2-v1"]


def make_client(cluster: FerryCluster, name: str) -> Client:
    return {
        "oss2-v1": lambda: Oss2Client(cluster, v4=False),
        "oss2-v4": lambda: Oss2Client(cluster, v4=True),
        "v2-v4": lambda: V2Client(cluster, v1=False),
        "v2-v1": lambda: V2Client(cluster, v1=True),
    }[name]()


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest, cluster: FerryCluster) -> Client:
    return make_client(cluster, request.param)


def empty_and_delete(cluster: FerryCluster, name: str) -> None:
    bucket = cluster.oss2_bucket(name)
    try:
        keys = [o.key for o in oss2.ObjectIteratorV2(bucket)]
        # oss2 writes keys raw into the Delete document: control characters need single deletes.
        for key in [k for k in keys if not k.isprintable()]:
            bucket.delete_object(key)
        keys = [k for k in keys if k.isprintable()]
        for i in range(0, len(keys), 1000):
            bucket.batch_delete_objects(keys[i : i + 1000])
        bucket.delete_bucket()
    except oss2.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def bucket(client: Client, cluster: FerryCluster) -> Iterator[str]:
    name = unique_bucket()
    client.create_bucket(name)
    yield name
    empty_and_delete(cluster, name)


@pytest.fixture
def make_bucket(cluster: FerryCluster) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(acl: str | None = None) -> str:
        name = unique_bucket()
        cluster.oss2_bucket(name).create_bucket(acl)
        made.append(name)
        return name

    yield make
    for name in made:
        empty_and_delete(cluster, name)


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest().upper() + '"'


def raises(fn: Callable[[], Any]) -> SdkError:
    with pytest.raises(SdkError) as info:
        fn()
    return info.value


# --- raw requests signed by oss2's auth objects ---------------------------------


def signed_headers(
    method: str,
    bucket: str,
    key: str,
    *,
    v4: bool = False,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    region: str = "cn-hangzhou",
) -> dict[str, str]:
    """The headers oss2 would send for this request (Authorization, Date / x-oss-date)."""
    req = oss2.http.Request(
        method,
        "http://unused",
        params=dict(params or {}),
        headers=dict(headers or {}),
        region=region,
        product="oss",
    )
    if v4:
        oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET)._sign_request(req, bucket, key)
    else:
        oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET)._sign_request(req, bucket, key)
    return {k: v for k, v in req.headers.items() if v is not None}


def assert_common_headers(headers: Any) -> None:
    h = _lower(headers)
    assert len(h["x-oss-request-id"]) == 24
    assert h["server"] == "AliyunOSS"
    assert h["date"].endswith(" GMT")


# --- buckets ------------------------------------------------------------------


def test_bucket_lifecycle(client: Client, cluster: FerryCluster) -> None:
    prefix = unique_bucket("life")
    names = sorted(f"{prefix}-{i}" for i in range(3))
    for name in names:
        client.create_bucket(name)
    try:
        client.create_bucket(names[0])  # creating a bucket one already owns succeeds, as on OSS
        assert client.list_bucket_names(prefix) == names  # paged two at a time

        info = client.bucket_info(names[0])
        assert info["name"] == names[0]
        assert info["location"] == "oss-cn-hangzhou"
        assert info["acl"] == "private"
        assert info["extranet"] == cluster.region().endpoint
        assert info["storage_class"] == "Standard"
        assert client.location(names[0]) == "oss-cn-hangzhou"

        assert client.stat(names[0]) == (0, 0)
        client.put(names[0], "a", b"12345")
        client.put(names[0], "b", b"123")
        assert client.stat(names[0]) == (8, 2)

        assert client.get_bucket_acl(names[1]) == "private"
        client.put_bucket_acl(names[1], "public-read")
        assert client.get_bucket_acl(names[1]) == "public-read"
        assert client.bucket_info(names[1])["acl"] == "public-read"

        assert raises(lambda: client.delete_bucket(names[0])).code == "BucketNotEmpty"
        client.delete(names[0], "a")
        client.delete(names[0], "b")
    finally:
        for name in names:
            client.delete_bucket(name)
    assert client.list_bucket_names(prefix) == []
    err = raises(lambda: client.bucket_info(names[0]))
    assert (err.status, err.code) == (404, "NoSuchBucket")


def test_create_bucket_with_acl(client: Client, cluster: FerryCluster) -> None:
    name = unique_bucket()
    client.create_bucket(name, "public-read-write")
    try:
        assert client.get_bucket_acl(name) == "public-read-write"
    finally:
        client.delete_bucket(name)


# --- objects ------------------------------------------------------------------


@pytest.mark.parametrize("key", SPECIAL_KEYS)
def test_put_get_head_delete_with_special_keys(client: Client, bucket: str, key: str) -> None:
    data = os.urandom(1000) + key.encode()
    put = client.put(bucket, key, data)
    assert put.headers["etag"] == md5_etag(data)
    assert put.headers["x-oss-hash-crc64ecma"] == str(crc64(data))

    got = client.get(bucket, key)
    assert got.status == 200
    assert got.body == data
    assert got.headers["etag"] == md5_etag(data)
    assert got.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    assert got.headers["content-length"] == str(len(data))

    head = client.head(bucket, key)
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["etag"] == md5_etag(data)

    assert client.list_v2(bucket).keys == [key]
    assert client.list_v1(bucket).keys == [key]

    client.delete(bucket, key)
    err = raises(lambda: client.get(bucket, key))
    assert (err.status, err.code) == (404, "NoSuchKey")
    err = raises(lambda: client.head(bucket, key))
    assert err.status == 404
    client.delete(bucket, key)  # deleting a missing key succeeds
    assert client.list_v2(bucket).keys == []


def test_content_headers_and_user_metadata_round_trip(client: Client, bucket: str) -> None:
    headers = {
        "Content-Type": "text/x-ferry; charset=utf-8",
        "Content-Disposition": 'attachment; filename="report.txt"',
        "Content-Encoding": "identity",
        "Cache-Control": "no-cache, max-age=0",
        "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
        "x-oss-meta-author": "ferry",
        "x-oss-meta-Project-Name": "Issue Two",
    }
    data = b"metadata body"
    client.put(bucket, "meta.txt", data, headers)
    for reply in (client.get(bucket, "meta.txt"), client.head(bucket, "meta.txt")):
        h = reply.headers
        assert h["content-type"] == "text/x-ferry; charset=utf-8"
        assert h["content-disposition"] == 'attachment; filename="report.txt"'
        assert h["content-encoding"] == "identity"
        assert h["cache-control"] == "no-cache, max-age=0"
        assert h["expires"] == "Wed, 21 Oct 2037 07:28:00 GMT"
        assert h["x-oss-meta-author"] == "ferry"
        assert h["x-oss-meta-project-name"] == "Issue Two"
        assert h["etag"] == md5_etag(data)
        assert h["x-oss-object-type"] == "Normal"
        assert "last-modified" in h
        assert_common_headers(h)

    client.put(bucket, "default.bin", b"x")
    assert client.head(bucket, "default.bin").headers["content-type"] == "application/octet-stream"


def test_crc64_is_checked_by_the_sdk(cluster: FerryCluster, bucket: str, client: Client) -> None:
    """The SDKs verify x-oss-hash-crc64ecma themselves; a 2 MiB body crosses the streaming path."""
    data = os.urandom(2 * 1024 * 1024 + 17)
    put = client.put(bucket, "big.bin", data)
    assert put.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    got = client.get(bucket, "big.bin")
    assert got.body == data
    assert got.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    if isinstance(client, V2Client):
        # v2 checks downloads in get_object_to_file (and uploads in put_object) by default.
        with tempfile.NamedTemporaryFile() as f:
            client.client.get_object_to_file(v2.GetObjectRequest(bucket=bucket, key="big.bin"), f.name)
            assert Path(f.name).read_bytes() == data


def test_ranges(client: Client, bucket: str) -> None:
    data = bytes(range(100))
    client.put(bucket, "r", data)

    def get(rng: str, standard: bool = False) -> Reply:
        headers = {"Range": rng}
        if standard:
            headers["x-oss-range-behavior"] = "standard"
        return client.get(bucket, "r", headers)

    r = get("bytes=0-9")
    assert (r.status, r.body, r.headers["content-range"]) == (206, data[:10], "bytes 0-9/100")
    assert r.headers["content-length"] == "10"
    r = get("bytes=-5")
    assert (r.status, r.body, r.headers["content-range"]) == (206, data[-5:], "bytes 95-99/100")
    r = get("bytes=10-")
    assert (r.status, r.body, r.headers["content-range"]) == (206, data[10:], "bytes 10-99/100")
    r = get("bytes=90-200")
    assert (r.status, r.body, r.headers["content-range"]) == (206, data[90:], "bytes 90-99/100")
    # Past the end: OSS ignores the range and sends the whole object ...
    r = get("bytes=100-200")
    assert (r.status, r.body) == (200, data)
    assert "content-range" not in r.headers
    # ... unless the client asks for standard behaviour.
    err = raises(lambda: get("bytes=100-200", standard=True))
    assert (err.status, err.code) == (416, "InvalidRange")
    r = get("bytes=10-19", standard=True)
    assert (r.status, r.body) == (206, data[10:20])

    # An empty object: every range is past the end.
    client.put(bucket, "empty", b"")
    for rng in ("bytes=0-0", "bytes=-1", "bytes=0-"):
        r = client.get(bucket, "empty", {"Range": rng})
        assert (r.status, r.body) == (200, b"")
        err = raises(
            lambda rng=rng: client.get(bucket, "empty", {"Range": rng, "x-oss-range-behavior": "standard"})
        )
        assert (err.status, err.code) == (416, "InvalidRange")


def test_conditional_get(client: Client, bucket: str) -> None:
    data = b"conditional"
    client.put(bucket, "c", data)
    etag = md5_etag(data)
    modified = client.head(bucket, "c").headers["last-modified"]
    earlier = formatdate(time.time() - 3600, usegmt=True)
    later = formatdate(time.time() + 3600, usegmt=True)

    assert client.get(bucket, "c", {"If-Match": etag}).body == data
    err = raises(lambda: client.get(bucket, "c", {"If-Match": '"0123456789ABCDEF0123456789ABCDEF"'}))
    assert (err.status, err.code) == (412, "PreconditionFailed")

    assert client.get(bucket, "c", {"If-None-Match": '"0123456789ABCDEF0123456789ABCDEF"'}).body == data
    err = raises(lambda: client.get(bucket, "c", {"If-None-Match": etag}))
    assert err.status == 304

    assert client.get(bucket, "c", {"If-Modified-Since": earlier}).body == data
    err = raises(lambda: client.get(bucket, "c", {"If-Modified-Since": modified}))
    assert err.status == 304
    err = raises(lambda: client.get(bucket, "c", {"If-Modified-Since": later}))
    assert err.status == 304

    assert client.get(bucket, "c", {"If-Unmodified-Since": later}).body == data
    assert client.get(bucket, "c", {"If-Unmodified-Since": modified}).body == data
    err = raises(lambda: client.get(bucket, "c", {"If-Unmodified-Since": earlier}))
    assert (err.status, err.code) == (412, "PreconditionFailed")

    err = raises(lambda: client.head(bucket, "c", {"If-Match": '"0123456789ABCDEF0123456789ABCDEF"'}))
    assert err.status == 412


def test_not_modified_has_no_body_and_keeps_the_connection(
    cluster: FerryCluster, make_bucket: Callable[..., str]
) -> None:
    """A 304 carries no content; bytes after its headers would corrupt the next response."""
    name = make_bucket()
    b = cluster.oss2_bucket(name)
    b.put_object("k", b"hello")
    etag = b.head_object("k").etag
    conn = http.client.HTTPConnection("127.0.0.1", cluster.region().port, timeout=10)
    try:
        for method in ("GET", "HEAD"):
            headers = signed_headers(method, name, "k")
            headers["If-None-Match"] = f'"{etag}"'
            conn.request(method, f"/{name}/k", headers=headers)
            r = conn.getresponse()
            assert (r.status, r.read()) == (304, b"")
            assert r.getheader("ETag") == f'"{etag}"'
            assert r.getheader("Content-Length") in (None, "0")
            assert_common_headers(r.getheaders())
            conn.request("GET", f"/{name}/k", headers=signed_headers("GET", name, "k"))
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"hello")
    finally:
        conn.close()


def test_response_header_overrides(client: Client, bucket: str) -> None:
    client.put(bucket, "o.txt", b"override", {"Content-Type": "text/plain"})
    params = {
        "response-content-type": "application/json",
        "response-content-disposition": "inline; filename=x.json",
        "response-cache-control": "max-age=60",
        "response-content-encoding": "identity",
        "response-content-language": "zh-CN",
        "response-expires": "Thu, 01 Jan 2037 00:00:00 GMT",
    }
    r = client.get(bucket, "o.txt", params=params)
    assert r.body == b"override"
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == "inline; filename=x.json"
    assert r.headers["cache-control"] == "max-age=60"
    assert r.headers["content-encoding"] == "identity"
    assert r.headers["content-language"] == "zh-CN"
    assert r.headers["expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
    # The stored metadata is unchanged.
    assert client.head(bucket, "o.txt").headers["content-type"] == "text/plain"


def test_forbid_overwrite(client: Client, bucket: str) -> None:
    client.put(bucket, "once", b"first", {"x-oss-forbid-overwrite": "true"})
    err = raises(lambda: client.put(bucket, "once", b"second", {"x-oss-forbid-overwrite": "true"}))
    assert (err.status, err.code) == (409, "FileAlreadyExists")
    assert client.get(bucket, "once").body == b"first"
    client.put(bucket, "once", b"third", {"x-oss-forbid-overwrite": "false"})
    assert client.get(bucket, "once").body == b"third"


def test_copy_in_place_converts_the_storage_class(client: Client, bucket: str) -> None:
    """x-oss-storage-class applies under the COPY directive too: OSS's documented way of
    converting an object's class (metadata kept)."""
    client.put(bucket, "c.txt", b"convert me", {"x-oss-meta-color": "red"})
    client.copy(bucket, "c.txt", bucket, "c.txt", {"x-oss-storage-class": "IA"})
    head = client.head(bucket, "c.txt")
    assert (head.headers["x-oss-storage-class"], head.headers["x-oss-meta-color"]) == ("IA", "red")
    assert client.get(bucket, "c.txt").body == b"convert me"


def test_copy_object(client: Client, bucket: str, make_bucket: Callable[..., str]) -> None:
    other = make_bucket()
    data = os.urandom(5000)
    key = "src dir/ü+%?#.bin"
    client.put(bucket, key, data, {"Content-Type": "image/png", "x-oss-meta-color": "blue"})

    # COPY (the default directive) keeps the source's metadata; within the bucket ...
    r = client.copy(bucket, key, bucket, "copy/same", {})
    assert r.status == 200
    assert r.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    got = client.get(bucket, "copy/same")
    assert got.body == data
    assert got.headers["etag"] == md5_etag(data)
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-oss-meta-color"] == "blue"

    # ... and across buckets.
    client.copy(bucket, key, other, "copy/across", {"x-oss-metadata-directive": "COPY"})
    got = client.get(other, "copy/across")
    assert (got.body, got.headers["x-oss-meta-color"]) == (data, "blue")

    # REPLACE takes the metadata from the request.
    client.copy(
        bucket,
        key,
        other,
        "copy/replaced",
        {"x-oss-metadata-directive": "REPLACE", "Content-Type": "text/plain", "x-oss-meta-shape": "round"},
    )
    got = client.get(other, "copy/replaced")
    assert got.body == data
    assert got.headers["content-type"] == "text/plain"
    assert got.headers["x-oss-meta-shape"] == "round"
    assert "x-oss-meta-color" not in got.headers

    # Copying an object onto itself with REPLACE rewrites its metadata.
    client.copy(bucket, key, bucket, key, {"x-oss-metadata-directive": "REPLACE", "x-oss-meta-color": "red"})
    assert client.head(bucket, key).headers["x-oss-meta-color"] == "red"
    assert client.get(bucket, key).body == data

    # The source stays; deleting it leaves the copies readable.
    client.delete(bucket, key)
    assert client.get(other, "copy/across").body == data

    err = raises(lambda: client.copy(bucket, "missing", bucket, "x", {}))
    assert (err.status, err.code) == (404, "NoSuchKey")
    client.put(bucket, "exists", b"e")
    err = raises(
        lambda: client.copy(other, "copy/across", bucket, "exists", {"x-oss-forbid-overwrite": "true"})
    )
    assert (err.status, err.code) == (409, "FileAlreadyExists")


def test_object_acl(client: Client, bucket: str, cluster: FerryCluster) -> None:
    client.put(bucket, "acl/obj", b"acl")
    assert client.get_object_acl(bucket, "acl/obj") == "default"
    client.put_object_acl(bucket, "acl/obj", "public-read")
    assert client.get_object_acl(bucket, "acl/obj") == "public-read"
    # The object ACL opens this one object of a private bucket to anonymous readers.
    url = f"{cluster.region().endpoint}/{bucket}/acl/obj"
    assert requests.get(url, timeout=10).content == b"acl"
    client.put_object_acl(bucket, "acl/obj", "private")
    assert client.get_object_acl(bucket, "acl/obj") == "private"
    assert requests.get(url, timeout=10).status_code == 403
    client.put(bucket, "acl/at-put", b"x", {"x-oss-object-acl": "public-read-write"})
    assert client.get_object_acl(bucket, "acl/at-put") == "public-read-write"


@pytest.mark.parametrize("quiet", [False, True], ids=["verbose", "quiet"])
def test_delete_multiple_objects(client: Client, bucket: str, quiet: bool) -> None:
    # Both SDKs send encoding-type=url and the keys raw: '%' in a key must not be decoded.
    keys = ["a", "dir/b", "sp ace", "pl+us", "ünï", "q?m", "h#t", "amp&lt<gt>", "pct%41", "50%off", "a%2Fb"]
    for k in keys:
        client.put(bucket, k, k.encode())
    client.put(bucket, "keep", b"keep")
    client.put(bucket, "pctA", b"decoy")  # what "pct%41" would wrongly decode to
    client.put(bucket, "a/b", b"decoy")
    deleted = client.delete_many(bucket, [*keys, "never-existed"], quiet)
    if quiet:
        assert deleted == []
    else:
        assert sorted(deleted) == sorted([*keys, "never-existed"])
    assert client.list_v2(bucket).keys == ["a/b", "keep", "pctA"]


def _all_keys(n: int) -> list[str]:
    keys = [f"page/{i:04d}" for i in range(n)]
    keys += ["page/dir1/x", "page/dir1/y", "page/dir2/z", "page/sp ace/ü", "other/a", "top"]
    return sorted(keys)


@pytest.fixture
def filled(bucket: str, cluster: FerryCluster) -> tuple[str, list[str]]:
    """A bucket with 260 keys plus a few nested ones, written in parallel through oss2."""
    from concurrent.futures import ThreadPoolExecutor

    keys = _all_keys(260)
    b = cluster.oss2_bucket(bucket)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: b.put_object(k, b"x"), keys))
    return bucket, keys


def test_list_objects_v1_paging(client: Client, filled: tuple[str, list[str]]) -> None:
    bucket, keys = filled
    seen: list[str] = []
    marker = ""
    pages = 0
    while True:
        page = client.list_v1(bucket, marker=marker, max_keys=37)
        assert len(page.keys) <= 37
        seen += page.keys
        pages += 1
        if not page.truncated:
            break
        assert page.next == page.keys[-1]
        marker = page.next
    assert seen == keys  # exact order, no duplicates, no holes
    assert pages == -(-len(keys) // 37)

    page = client.list_v1(bucket, prefix="page/", delimiter="/", max_keys=1000)
    assert page.prefixes == ["page/dir1/", "page/dir2/", "page/sp ace/"]
    assert page.keys == [k for k in keys if k.startswith("page/") and k.count("/") == 1]
    page = client.list_v1(bucket, delimiter="/")
    assert (page.keys, page.prefixes) == (["top"], ["other/", "page/"])
    page = client.list_v1(bucket, prefix="page/0", marker="page/0250", max_keys=5)
    assert page.keys == ["page/0251", "page/0252", "page/0253", "page/0254", "page/0255"]
    assert page.truncated

    # Common prefixes count against max-keys and a marker at a prefix skips it.
    page = client.list_v1(bucket, prefix="page/d", delimiter="/", max_keys=1)
    assert (page.prefixes, page.truncated, page.next) == (["page/dir1/"], True, "page/dir1/")
    page = client.list_v1(bucket, prefix="page/d", delimiter="/", marker=page.next)
    assert (page.prefixes, page.truncated) == (["page/dir2/"], False)


def test_list_objects_v2_paging(client: Client, filled: tuple[str, list[str]]) -> None:
    bucket, keys = filled
    seen: list[str] = []
    token = ""
    while True:
        page = client.list_v2(bucket, token=token, max_keys=50)
        assert len(page.keys) <= 50
        seen += page.keys
        if not page.truncated:
            break
        assert page.next
        token = page.next
    assert seen == keys

    page = client.list_v2(bucket, start_after="page/0257", max_keys=4)
    assert page.keys == ["page/0258", "page/0259", "page/dir1/x", "page/dir1/y"]
    # start-after is ignored once a continuation token is given.
    token_page = client.list_v2(bucket, start_after="page/0257", token=page.next, max_keys=2)
    assert token_page.keys == ["page/dir2/z", "page/sp ace/ü"]

    prefixes: list[str] = []
    token = ""
    while True:
        page = client.list_v2(bucket, prefix="page/", delimiter="/", token=token, max_keys=100)
        prefixes += page.prefixes
        if not page.truncated:
            break
        token = page.next
    assert prefixes == ["page/dir1/", "page/dir2/", "page/sp ace/"]


def test_get_object_meta(client: Client, bucket: str) -> None:
    data = b"meta only"
    client.put(bucket, "m/ü k", data, {"x-oss-meta-big": "secret", "Content-Type": "text/plain"})
    r = client.meta(bucket, "m/ü k")
    assert r.status == 200
    assert r.headers["etag"] == md5_etag(data)
    assert r.headers["content-length"] == str(len(data))
    assert r.headers["x-oss-hash-crc64ecma"] == str(crc64(data))
    assert "last-modified" in r.headers
    assert "x-oss-meta-big" not in r.headers  # GetObjectMeta is the short form of HeadObject
    err = raises(lambda: client.meta(bucket, "m/missing"))
    assert err.status == 404


def test_paging_one_key_at_a_time_over_special_keys(client: Client, bucket: str) -> None:
    """NextMarker and continuation tokens survive every key shape (the SDKs ask for encoding-type=url)."""
    keys = sorted([*SPECIAL_KEYS, "ctl\x01key", "trailing space "])
    for key in keys:
        client.put(bucket, key, b"k")
    seen_v1: list[str] = []
    marker = ""
    while True:
        page = client.list_v1(bucket, marker=marker, max_keys=1)
        seen_v1 += page.keys
        if not page.truncated:
            break
        assert page.next == page.keys[-1]
        marker = page.next
    assert seen_v1 == keys
    seen_v2: list[str] = []
    token = ""
    while True:
        page = client.list_v2(bucket, token=token, max_keys=1)
        seen_v2 += page.keys
        if not page.truncated:
            break
        token = page.next
    assert seen_v2 == keys
    for key in keys:
        assert client.list_v2(bucket, start_after=key, max_keys=1).keys == keys[keys.index(key) + 1 :][:1]


def test_list_with_encoding_type_url_on_the_wire(
    cluster: FerryCluster, make_bucket: Callable[..., str]
) -> None:
    bucket = make_bucket()
    key = "enc/ü sp+%\x01ctl"
    cluster.oss2_bucket(bucket).put_object(key, b"x")
    for params in (
        {"encoding-type": "url", "prefix": "enc/"},
        {"list-type": "2", "encoding-type": "url", "prefix": "enc/"},
    ):
        r = requests.get(
            f"{cluster.region().endpoint}/{bucket}/",
            params=params,
            headers=signed_headers("GET", bucket, "", params={}),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        assert f"<Key>{quote(key, safe='')}</Key>" in r.text
        assert "<EncodingType>url</EncodingType>" in r.text
        assert f"<Prefix>{quote('enc/', safe='')}</Prefix>" in r.text


def test_list_live_channel_is_empty(cluster: FerryCluster, make_bucket: Callable[..., str]) -> None:
    name = make_bucket()
    result = cluster.oss2_bucket(name).list_live_channel()
    assert result.channels == []
    assert result.is_truncated is False
    result = cluster.oss2_bucket(name, v4=True).list_live_channel(prefix="x", max_keys=10)
    assert result.channels == []


# --- presigned URLs and anonymous access ------------------------------------------


def test_presigned_get(client: Client, bucket: str) -> None:
    data = b"presigned body"
    key = "pre/signed ü+?#.txt"
    client.put(bucket, key, data)
    url = client.presign_get(bucket, key)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["ETag"] == md5_etag(data)
    assert_common_headers(r.headers)
    tampered = url.replace("pre/signed", "pre/signet", 1) if "pre/signed" in url else url + "x"
    bad = requests.get(tampered, timeout=10)
    assert bad.status_code == 403


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_oss2_presigned_put(cluster: FerryCluster, make_bucket: Callable[..., str], v4: bool) -> None:
    name = make_bucket()
    b = cluster.oss2_bucket(name, v4=v4)
    url = b.sign_url("PUT", "uploaded", 60, headers={"Content-Type": "text/plain"})
    r = requests.put(url, data=b"via url", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 200, r.text
    assert b.get_object("uploaded").read() == b"via url"
    assert b.head_object("uploaded").content_type == "text/plain"


def test_v2_presigned_put(cluster: FerryCluster, make_bucket: Callable[..., str]) -> None:
    name = make_bucket()
    client = cluster.v2_client()
    result = client.presign(v2.PutObjectRequest(bucket=name, key="v2 up", content_type="text/plain"))
    assert result.method == "PUT"
    r = requests.put(result.url, data=b"v2 url", headers=dict(result.signed_headers or {}), timeout=10)
    assert r.status_code == 200, r.text
    assert cluster.oss2_bucket(name).get_object("v2 up").read() == b"v2 url"


def test_anonymous_access_follows_bucket_acl(cluster: FerryCluster, make_bucket: Callable[..., str]) -> None:
    name = make_bucket()
    owner = cluster.oss2_bucket(name)
    owner.put_object("k", b"secret")
    base = f"{cluster.region().endpoint}/{name}"

    def anon(method: str, path: str, data: bytes | None = None) -> requests.Response:
        return requests.request(method, f"{base}/{path}", data=data, timeout=10)

    r = anon("GET", "k")
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text
    assert anon("PUT", "anon", b"x").status_code == 403
    assert anon("GET", "").status_code == 403

    owner.put_bucket_acl("public-read")
    r = anon("GET", "k")
    assert (r.status_code, r.content) == (200, b"secret")
    assert anon("HEAD", "k").status_code == 200
    assert anon("GET", "").status_code == 200  # ListObjects
    assert anon("PUT", "anon", b"x").status_code == 403
    assert anon("DELETE", "k").status_code == 403
    assert anon("GET", "?acl").status_code == 403  # owner-only operations stay closed

    owner.put_bucket_acl("public-read-write")
    assert anon("PUT", "anon", b"anonymous bytes").status_code == 200
    assert owner.get_object("anon").read() == b"anonymous bytes"
    assert anon("DELETE", "anon").status_code == 204
    assert anon("GET", "?acl").status_code == 403

    owner.put_bucket_acl("private")
    assert anon("GET", "k").status_code == 403
    # An object ACL can close one object of a public bucket too.
    owner.put_bucket_acl("public-read")
    owner.put_object_acl("k", "private")
    assert anon("GET", "k").status_code == 403


# --- addressing -----------------------------------------------------------------


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_virtual_host_style(cluster: FerryCluster, make_bucket: Callable[..., str], v4: bool) -> None:
    name = make_bucket()
    key = "vhost dir/ü+.txt"
    cluster.oss2_bucket(name).put_object(key, b"virtual")
    host = f"{name}.oss-cn-hangzhou.aliyuncs.com"
    headers = signed_headers("GET", name, key, v4=v4)
    headers["Host"] = host
    r = requests.get(f"{cluster.region().endpoint}/{quote(key)}", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b"virtual"

    # A bucket-level call (ListObjects) the same way.
    headers = signed_headers("GET", name, "", v4=v4, params={"prefix": "vhost"})
    headers["Host"] = host
    r = requests.get(f"{cluster.region().endpoint}/", params={"prefix": "vhost"}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert f"<Name>{name}</Name>" in r.text
    assert "<Key>vhost dir/ü+.txt</Key>" in r.text


def test_absolute_form_targets(cluster: FerryCluster, make_bucket: Callable[..., str]) -> None:
    name = make_bucket()
    endpoint = cluster.region().endpoint
    proxies = {"http": endpoint}
    url = f"http://{name}.oss-cn-hangzhou.aliyuncs.com/abs%20key"
    headers = signed_headers("PUT", name, "abs key")
    r = requests.put(url, data=b"absolute", headers=headers, proxies=proxies, timeout=10)
    assert r.status_code == 200, r.text
    assert cluster.oss2_bucket(name).get_object("abs key").read() == b"absolute"

    # oss2 itself behind an HTTP proxy setting, against the cloud host name.
    for auth, extra in (
        (oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), {}),
        (oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), {"region": "cn-hangzhou"}),
    ):
        proxied = oss2.Bucket(auth, "http://oss-cn-hangzhou.aliyuncs.com", name, proxies=proxies, **extra)
        proxied.put_object("via/proxy", b"proxied")
        result = proxied.get_object("via/proxy")
        assert result.read() == b"proxied"
        assert result.client_crc == result.server_crc
        assert [o.key for o in proxied.list_objects().object_list] == ["abs key", "via/proxy"]
        proxied.delete_object("via/proxy")


# --- headers on every response --------------------------------------------------------


def test_common_headers_on_success_and_error(client: Client, bucket: str, cluster: FerryCluster) -> None:
    put = client.put(bucket, "h", b"h")
    assert_common_headers(put.headers)
    assert_common_headers(client.get(bucket, "h").headers)
    assert_common_headers(client.head(bucket, "h").headers)
    err = raises(lambda: client.get(bucket, "missing"))
    assert_common_headers(err.headers)
    err = raises(lambda: client.head(bucket, "missing"))
    assert_common_headers(err.headers)
    for r in (
        requests.get(f"{cluster.region().endpoint}/{bucket}/h", timeout=10),
        requests.head(f"{cluster.region().endpoint}/{bucket}/h", timeout=10),
        requests.get(f"{cluster.region().endpoint}/", timeout=10),
    ):
        assert r.status_code == 403
        assert_common_headers(r.headers)


def test_content_md5_accepted_when_right(client: Client, bucket: str) -> None:
    data = b"digest me"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    r = client.put(bucket, "md5", data, {"Content-MD5": md5})
    assert r.headers["etag"] == md5_etag(data)
    assert r.headers["content-md5"] == md5
