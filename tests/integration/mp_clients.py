"""Multipart, append and symlink calls through both Python SDKs, behind one small adapter.

Each adapter calls the SDK's own methods with its CRC-64 checks on and turns SDK errors
into :class:`SdkError`, so a test states the behaviour once and runs it with oss2 (V1, V4)
and alibabacloud-oss-v2 (V4, V1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import alibabacloud_oss_v2 as v2
import oss2

from tests.integration.harness import FerryCluster

CLIENTS = ["oss2-v1", "oss2-v4", "v2-v4", "v2-v1"]


class SdkError(Exception):
    def __init__(self, status: int, code: str, headers: dict[str, str]) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.headers = status, code, headers


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}


@dataclass
class Completed:
    etag: str
    """Without quotes."""
    crc64: str
    version_id: str | None


@dataclass
class UploadsPage:
    uploads: list[tuple[str, str]]
    prefixes: list[str] | None
    """None when the SDK has no field for common prefixes (alibabacloud-oss-v2)."""
    truncated: bool
    next_key: str
    next_upload_id: str


@dataclass
class PartsPage:
    parts: list[tuple[int, str, int]]
    """(number, ETag without quotes, size)."""
    truncated: bool
    next_marker: int


class MpClient:
    name = ""

    def initiate(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> str: ...
    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str: ...
    def copy_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        source: tuple[str, str],
        byte_range: tuple[int, int] | None = None,
        version_id: str | None = None,
    ) -> str: ...
    def complete(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]] | None
    ) -> Completed: ...
    def abort(self, bucket: str, key: str, upload_id: str) -> None: ...
    def list_parts(self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int) -> PartsPage: ...
    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadsPage: ...
    def append(
        self, bucket: str, key: str, position: int, data: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """(next position, CRC-64 of the whole object)."""
        ...

    def put_symlink(self, bucket: str, key: str, target: str, meta: dict[str, str] | None = None) -> None: ...
    def get_symlink(self, bucket: str, key: str) -> str: ...
    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]: ...


class Oss2Mp(MpClient):
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

    def initiate(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> str:
        return str(self._call(lambda: self.b(bucket).init_multipart_upload(key, headers=headers)).upload_id)

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        # oss2 compares the part's CRC-64 with x-oss-hash-crc64ecma itself.
        return str(self._call(lambda: self.b(bucket).upload_part(key, upload_id, number, data)).etag)

    def copy_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        source: tuple[str, str],
        byte_range: tuple[int, int] | None = None,
        version_id: str | None = None,
    ) -> str:
        params = {"versionId": version_id} if version_id else None
        r = self._call(
            lambda: self.b(bucket).upload_part_copy(
                source[0], source[1], byte_range, key, upload_id, number, params=params
            )
        )
        return str(r.etag)

    def complete(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]] | None
    ) -> Completed:
        infos = None if parts is None else [oss2.models.PartInfo(n, e) for n, e in parts]
        headers = {"x-oss-complete-all": "yes"} if parts is None else None
        r = self._call(
            lambda: self.b(bucket).complete_multipart_upload(key, upload_id, infos, headers=headers)
        )
        return Completed(str(r.etag), str(r.crc), r.versionid)

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self._call(lambda: self.b(bucket).abort_multipart_upload(key, upload_id))

    def list_parts(self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int) -> PartsPage:
        r = self._call(
            lambda: self.b(bucket).list_parts(key, upload_id, marker=str(marker or ""), max_parts=max_parts)
        )
        return PartsPage(
            [(p.part_number, p.etag, p.size) for p in r.parts], r.is_truncated, int(r.next_marker or 0)
        )

    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadsPage:
        r = self._call(
            lambda: self.b(bucket).list_multipart_uploads(
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=max_uploads,
            )
        )
        return UploadsPage(
            [(u.key, u.upload_id) for u in r.upload_list],
            list(r.prefix_list),
            r.is_truncated,
            r.next_key_marker,
            r.next_upload_id_marker,
        )

    def append(
        self, bucket: str, key: str, position: int, data: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        b = self.b(bucket)
        crc: int | None = 0
        if position:
            try:
                crc = b.head_object(key).server_crc
            except oss2.exceptions.NotFound:
                crc = None
        # With init_crc, oss2 checks the whole object's CRC-64 it combines itself.
        r = self._call(lambda: b.append_object(key, position, data, headers=headers, init_crc=crc))
        return r.next_position, str(r.crc)

    def put_symlink(self, bucket: str, key: str, target: str, meta: dict[str, str] | None = None) -> None:
        headers = {f"x-oss-meta-{k}": v for k, v in (meta or {}).items()}
        self._call(lambda: self.b(bucket).put_symlink(target, key, headers=headers))

    def get_symlink(self, bucket: str, key: str) -> str:
        return str(self._call(lambda: self.b(bucket).get_symlink(key)).target_key)

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        r = self._call(lambda: self.b(bucket).get_object(key))
        body = r.read()
        assert r.client_crc == r.server_crc
        return body, _lower(r.headers)


class V2Mp(MpClient):
    def __init__(self, cluster: FerryCluster, v1: bool) -> None:
        self.client = cluster.v2_client(v1=v1)
        self.name = "v2-v1" if v1 else "v2-v4"

    @staticmethod
    def _call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except v2.exceptions.OperationError as e:
            inner = e.unwrap()
            if isinstance(inner, v2.exceptions.ServiceError):
                raise SdkError(inner.status_code, inner.code, _lower(inner.headers)) from e
            raise

    def initiate(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> str:
        req = v2.InitiateMultipartUploadRequest(bucket=bucket, key=key, headers=dict(headers or {}))
        return str(self._call(lambda: self.client.initiate_multipart_upload(req)).upload_id)

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        req = v2.UploadPartRequest(bucket=bucket, key=key, upload_id=upload_id, part_number=number, body=data)
        return str(self._call(lambda: self.client.upload_part(req)).etag).strip('"')

    def copy_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        source: tuple[str, str],
        byte_range: tuple[int, int] | None = None,
        version_id: str | None = None,
    ) -> str:
        req = v2.UploadPartCopyRequest(
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            part_number=number,
            source_bucket=source[0],
            source_key=source[1],
            source_version_id=version_id,
            source_range=f"bytes={byte_range[0]}-{byte_range[1]}" if byte_range else None,
        )
        return str(self._call(lambda: self.client.upload_part_copy(req)).etag).strip('"')

    def complete(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]] | None
    ) -> Completed:
        if parts is None:
            req = v2.CompleteMultipartUploadRequest(
                bucket=bucket, key=key, upload_id=upload_id, complete_all="yes"
            )
        else:
            body = v2.CompleteMultipartUpload(parts=[v2.UploadPart(part_number=n, etag=e) for n, e in parts])
            req = v2.CompleteMultipartUploadRequest(
                bucket=bucket, key=key, upload_id=upload_id, complete_multipart_upload=body
            )
        r = self._call(lambda: self.client.complete_multipart_upload(req))
        return Completed(str(r.etag).strip('"'), str(r.hash_crc64), r.version_id)

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        req = v2.AbortMultipartUploadRequest(bucket=bucket, key=key, upload_id=upload_id)
        self._call(lambda: self.client.abort_multipart_upload(req))

    def list_parts(self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int) -> PartsPage:
        req = v2.ListPartsRequest(
            bucket=bucket, key=key, upload_id=upload_id, part_number_marker=marker, max_parts=max_parts
        )
        r = self._call(lambda: self.client.list_parts(req))
        return PartsPage(
            [(p.part_number, str(p.etag).strip('"'), p.size) for p in r.parts or []],
            bool(r.is_truncated),
            int(r.next_part_number_marker or 0),
        )

    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadsPage:
        req = v2.ListMultipartUploadsRequest(
            bucket=bucket,
            prefix=prefix or None,
            delimiter=delimiter or None,
            key_marker=key_marker or None,
            upload_id_marker=upload_id_marker or None,
            max_uploads=max_uploads,
        )
        r = self._call(lambda: self.client.list_multipart_uploads(req))
        return UploadsPage(
            [(u.key, u.upload_id) for u in r.uploads or []],
            None,
            bool(r.is_truncated),
            r.next_key_marker or "",
            r.next_upload_id_marker or "",
        )

    def append(
        self, bucket: str, key: str, position: int, data: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        req = v2.AppendObjectRequest(
            bucket=bucket, key=key, position=position, body=data, headers=dict(headers or {})
        )
        r = self._call(lambda: self.client.append_object(req))
        return int(r.next_position), str(r.hash_crc64)

    def put_symlink(self, bucket: str, key: str, target: str, meta: dict[str, str] | None = None) -> None:
        req = v2.PutSymlinkRequest(bucket=bucket, key=key, target=target, metadata=meta)
        self._call(lambda: self.client.put_symlink(req))

    def get_symlink(self, bucket: str, key: str) -> str:
        r = self._call(lambda: self.client.get_symlink(v2.GetSymlinkRequest(bucket=bucket, key=key)))
        return str(r.target or r.symlink_target)

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        r = self._call(lambda: self.client.get_object(v2.GetObjectRequest(bucket=bucket, key=key)))
        return (r.body.content if r.body is not None else b""), _lower(r.headers)


def make_mp_client(cluster: FerryCluster, name: str) -> MpClient:
    return {
        "oss2-v1": lambda: Oss2Mp(cluster, v4=False),
        "oss2-v4": lambda: Oss2Mp(cluster, v4=True),
        "v2-v4": lambda: V2Mp(cluster, v1=False),
        "v2-v1": lambda: V2Mp(cluster, v1=True),
    }[name]()
