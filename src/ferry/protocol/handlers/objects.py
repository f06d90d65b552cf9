"""Handlers of the object-level operations: bytes in, bytes out, metadata as headers."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import itertools
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl, unquote

from ferry.core.errors import OssError
from ferry.core.model import (
    CONTENT_HEADERS,
    Bucket,
    ObjectAcl,
    ObjectType,
    ObjectVersion,
    StagedBlob,
    Versioning,
)
from ferry.core.operations import Operation
from ferry.core.restore import COLD_CLASSES
from ferry.iam.authorizer import acl_allows
from ferry.protocol import documents as docs
from ferry.protocol.compression import gzip_chunks, should_compress
from ferry.protocol.handlers import sse, sse_copy
from ferry.protocol.handlers.common import (
    content_length,
    object_acl,
    object_key,
    storage_class,
    the_bucket,
)
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.protocol.ranges import ByteRange, parse_range
from ferry.region import RegionRuntime
from ferry.service.kms import encryptor
from ferry.service.objects import DeleteMarkerError, ObjectAttrs
from ferry.service.staging import finish, receive_body
from ferry.storage.inline_blobs import is_inline

INLINE_READ_LIMIT = 256 * 1024
LOOP_READ_LIMIT = 16 * 1024
"""Objects up to this size are read in one call rather than streamed in chunks."""

_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
_MAX_USER_META_BYTES = 8 * 1024


def _http_date(ts: float) -> str:
    return _http_date_of_second(int(ts))


@functools.lru_cache(maxsize=4096)
def _http_date_of_second(second: int) -> str:
    # Objects written in the same second share the text; formatting it costs ~10 us.
    return formatdate(second, usegmt=True)


def parse_tagging_header(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    pairs = parse_qsl(value, keep_blank_values=True)
    tags = dict(pairs)
    if len(tags) != len(pairs):
        raise OssError("InvalidArgument", "The tag keys of x-oss-tagging must be unique.")
    return docs.check_tags(tags)


def attrs_from_headers(headers: Mapping[str, str]) -> ObjectAttrs:
    user_meta = {
        name[len("x-oss-meta-") :]: value for name, value in headers.items() if name.startswith("x-oss-meta-")
    }
    if sum(len(k) + len(v) for k, v in user_meta.items()) > _MAX_USER_META_BYTES:
        raise OssError("InvalidArgument", "User metadata must not exceed 8 KB.")
    content = {name: headers[name] for name in CONTENT_HEADERS if name in headers}
    return ObjectAttrs(
        content_headers=content,
        user_meta=user_meta,
        acl=object_acl(headers.get("x-oss-object-acl")),
        storage_class=storage_class(headers.get("x-oss-storage-class")),
        tags=parse_tagging_header(headers.get("x-oss-tagging")),
    )


def flag(headers: Mapping[str, str], name: str) -> bool:
    return headers.get(name, "").lower() == "true"


def object_headers(version: ObjectVersion, bucket: Bucket) -> list[tuple[str, str]]:
    headers = [
        ("ETag", docs.quoted_etag(version.etag)),
        ("Last-Modified", _http_date(version.created_at)),
        ("x-oss-object-type", version.object_type.value),
        ("x-oss-storage-class", version.storage_class.value),
        ("x-oss-hash-crc64ecma", version.crc64),
        ("Accept-Ranges", "bytes"),
    ]
    if version.object_type is ObjectType.NORMAL and len(version.etag) == 32:
        # Only a Normal object's ETag is the MD5 of its bytes (multipart and appendable ones
        # are not; a sequential multipart upload keeps its whole MD5 among the content headers).
        headers.append(("Content-MD5", base64.b64encode(bytes.fromhex(version.etag)).decode()))
    if bucket.versioning is not Versioning.OFF:
        headers.append(("x-oss-version-id", version.version_id))
    if version.tags:
        headers.append(("x-oss-tagging-count", str(len(version.tags))))
    if version.replication.value:
        headers.append(("x-oss-replication-status", version.replication.value))
    headers.extend(sse.response_headers(version.encryption))
    content = dict(version.content_headers)
    headers.append(("Content-Type", content.pop("content-type", "application/octet-stream")))
    for name, value in content.items():
        headers.append((name.title(), value))
    for name, value in version.user_meta.items():
        headers.append((f"x-oss-meta-{name}", value))
    return headers


async def put_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    key = object_key(ctx)
    attrs = attrs_from_headers(ctx.headers)
    bucket = await the_bucket(ctx, rt)
    wanted = await sse.wanted_for(ctx, rt, bucket)
    encryption, transform = None, None
    if wanted is not None:
        encryption, data_key = rt.kms.new_encryption(*wanted)
        transform = encryptor(data_key, encryption)
    writer = await receive_body(
        rt.blobs, ctx.body_chunks(), expected_length=content_length(ctx), transform=transform, inline_ok=True
    )

    def commit(staged: StagedBlob) -> Future[ObjectVersion]:
        return rt.objects.submit_put(
            bucket,
            key,
            staged,
            attrs,
            owner_id=bucket.owner_id,
            content_md5=ctx.header("content-md5"),
            forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
            encryption=encryption,
        )

    if writer.is_inline:
        # Small body: nothing to fsync but the grouped commit, awaited without a thread.
        version = await asyncio.wrap_future(commit(writer.finish()))
    else:
        # fsync the bytes and commit the metadata in one executor hop.
        version = await ctx.run(lambda: commit(finish(writer)).result())
    return _write_response(version, bucket)


def _write_response(version: ObjectVersion, bucket: Bucket) -> Response:
    response = Response()
    response.header("ETag", docs.quoted_etag(version.etag))
    response.header("x-oss-hash-crc64ecma", version.crc64)
    if len(version.etag) == 32:
        response.header("Content-MD5", base64.b64encode(bytes.fromhex(version.etag)).decode())
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    response.headers.extend(sse.response_headers(version.encryption))
    return response


async def read_version(ctx: RequestContext, rt: RegionRuntime) -> tuple[Bucket, ObjectVersion]:
    bucket = await the_bucket(ctx, rt)
    try:
        # One indexed row read: cheaper on the loop than a thread hop.
        version = rt.objects.get(bucket, object_key(ctx), ctx.q("versionId"))
    except DeleteMarkerError as marker:
        marker.headers.append(("x-oss-delete-marker", "true"))
        if bucket.versioning is not Versioning.OFF:
            marker.headers.append(("x-oss-version-id", marker.marker.version_id))
        raise
    return bucket, version


async def read_served(ctx: RequestContext, rt: RegionRuntime) -> tuple[Bucket, ObjectVersion]:
    """The version whose bytes GetObject/HeadObject serve: through a symlink, its target."""
    bucket, version = await read_version(ctx, rt)
    if version.object_type is ObjectType.SYMLINK:
        followed = await ctx.run(rt.symlinks.follow, bucket, version)
        # OSS checks the target's ACL too when a symlink is read (admission saw the link's).
        check_target_acl(ctx, bucket, followed.target.acl)
        version = followed.view
    return bucket, version


def check_target_acl(
    ctx: RequestContext, bucket: Bucket, acl: ObjectAcl, op: Operation | None = None
) -> None:
    """An anonymous read through a symlink needs the target's ACL (or the bucket's) to allow it."""
    if ctx.principal.anonymous and not acl_allows(op or ctx.operation, bucket.acl, lambda: acl):
        raise OssError("AccessDenied", "The symlink's target does not allow this access.")


def check_conditions(headers: Mapping[str, str], version: ObjectVersion) -> None:
    etag = docs.quoted_etag(version.etag)
    if_match = headers.get("if-match")
    if if_match is not None and if_match.strip() not in (etag, version.etag, "*"):
        raise OssError("PreconditionFailed", "If-Match did not hold.")
    # RFC 7232 section 6: a date condition is ignored when its ETag counterpart is present.
    if_unmodified = _parse_http_date(headers.get("if-unmodified-since"))
    if if_match is None and if_unmodified is not None and int(version.created_at) > if_unmodified:
        raise OssError("PreconditionFailed", "If-Unmodified-Since did not hold.")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip() in (etag, version.etag, "*"):
        raise _not_modified(version)
    if_modified = _parse_http_date(headers.get("if-modified-since"))
    if if_none_match is None and if_modified is not None and int(version.created_at) <= if_modified:
        raise _not_modified(version)


def _not_modified(version: ObjectVersion) -> OssError:
    error = OssError("NotModified")
    error.headers.append(("ETag", docs.quoted_etag(version.etag)))
    return error


def _parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None  # an unreadable date is ignored, as HTTP says


def not_modified_response(headers: Mapping[str, str], version: ObjectVersion) -> Response | None:
    """A bodiless 304 when a GET/HEAD condition says so (HTTP forbids content on a 304).

    Raises PreconditionFailed like :func:`check_conditions`; None when the object is to be sent.
    """
    try:
        check_conditions(headers, version)
    except OssError as error:
        if error.code != "NotModified":
            raise
        modified = ("Last-Modified", _http_date(version.created_at))
        return Response(status=304, headers=[*error.headers, modified])
    return None


_READ_ATTEMPTS = 3


async def get_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    """A write that replaced the version (an overwrite, an append) may free its blob between our
    reading the version and opening the blob: then the key is read again."""
    for _ in range(_READ_ATTEMPTS - 1):
        try:
            return await _get_object_once(ctx, rt)
        except FileNotFoundError:
            continue
    return await _get_object_once(ctx, rt)


def _opened(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks with the first one read already, so the blob is open (an unlink no longer matters)."""
    first = next(chunks, None)
    return chunks if first is None else itertools.chain([first], chunks)


async def _get_object_once(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_served(ctx, rt)
    if version.storage_class in COLD_CLASSES:
        rt.restores.check_readable(version)
    if (not_modified := not_modified_response(ctx.headers, version)) is not None:
        return not_modified
    headers = object_headers(version, bucket)
    if version.storage_class in COLD_CLASSES:
        _add_restore_status(rt, version, headers)
    byte_range = parse_range(
        ctx.header("range"), version.size, standard=ctx.header("x-oss-range-behavior") == "standard"
    )
    status = 200
    if byte_range is not None:
        status = 206
        headers.append(("Content-Range", f"bytes {byte_range.start}-{byte_range.end - 1}/{version.size}"))
    else:
        byte_range = ByteRange(0, version.size)
    _apply_overrides(ctx, headers)
    response = Response(status=status, headers=headers)
    length = byte_range.end - byte_range.start
    if ctx.method == "GET" and should_compress(ctx.header("accept-encoding"), headers, length):
        # Chunked, with no Content-Length; Content-MD5 would describe the uncompressed bytes.
        response.headers = [(n, v) for n, v in headers if n.lower() != "content-md5"]
        response.header("Content-Encoding", "gzip")
        chunks = await ctx.run(_opened, rt.blobs.read(version.blob_id, 0, version.size))
        response.stream = gzip_chunks(sse.plaintext(rt.kms, version, chunks, 0))
        return response
    if ctx.method == "HEAD" or length == 0:
        response.content_length = length
        response.header("Content-Length", str(length))
        return response
    if is_inline(version.blob_id) or length <= LOOP_READ_LIMIT:
        # Small reads (a database row, or a few pages of a file in the page cache) cost
        # less on the loop than a thread hop.
        response.body = _read_all(rt, version, byte_range)
        return response
    if length <= INLINE_READ_LIMIT:
        response.body = await ctx.run(_read_all, rt, version, byte_range)
        return response
    chunks = await ctx.run(_opened, rt.blobs.read(version.blob_id, byte_range.start, byte_range.end))
    response.stream = sse.plaintext(rt.kms, version, chunks, byte_range.start)
    response.content_length = length
    return response


def _add_restore_status(rt: RegionRuntime, version: ObjectVersion, headers: list[tuple[str, str]]) -> None:
    status = rt.restores.status_of(version)
    if status is not None:
        headers.append(("x-oss-restore", status))


def _read_all(rt: RegionRuntime, version: ObjectVersion, byte_range: ByteRange) -> bytes:
    chunks = rt.blobs.read(version.blob_id, byte_range.start, byte_range.end)
    return b"".join(sse.plaintext(rt.kms, version, chunks, byte_range.start))


def _apply_overrides(ctx: RequestContext, headers: list[tuple[str, str]]) -> None:
    if ctx.query.keys().isdisjoint(_RESPONSE_OVERRIDES):
        return
    for param, header in _RESPONSE_OVERRIDES.items():
        value = ctx.q(param)
        if value is None:
            continue
        if ctx.principal.anonymous:
            raise OssError("AccessDenied", "response-* parameters need a signed request.")
        lowered = header.lower()
        headers[:] = [(n, v) for n, v in headers if n.lower() != lowered]
        headers.append((header, value))


async def head_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_served(ctx, rt)
    if (not_modified := not_modified_response(ctx.headers, version)) is not None:
        return not_modified
    headers = object_headers(version, bucket)
    if version.storage_class in COLD_CLASSES:
        _add_restore_status(rt, version, headers)
    headers.append(("Content-Length", str(version.size)))
    return Response(headers=headers, content_length=version.size)


async def get_object_meta(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_version(ctx, rt)
    headers = [
        ("ETag", docs.quoted_etag(version.etag)),
        ("Last-Modified", _http_date(version.created_at)),
        ("x-oss-hash-crc64ecma", version.crc64),
        ("Content-Length", str(version.size)),
    ]
    if bucket.versioning is not Versioning.OFF:
        headers.append(("x-oss-version-id", version.version_id))
    return Response(headers=headers, content_length=version.size)


async def delete_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    outcome = await ctx.run(rt.objects.delete, bucket, object_key(ctx), ctx.q("versionId"))
    response = Response(status=204)
    if outcome.delete_marker:
        response.header("x-oss-delete-marker", "true")
        if outcome.delete_marker_version_id:
            response.header("x-oss-version-id", outcome.delete_marker_version_id)
    elif outcome.version_id:
        response.header("x-oss-version-id", outcome.version_id)
    return response


async def delete_multiple(ctx: RequestContext, rt: RegionRuntime) -> Response:
    body = await ctx.read_body()
    md5 = ctx.header("content-md5")
    if md5 is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5.strip():
        raise OssError("InvalidDigest", "The Content-MD5 you specified did not match what was received.")
    request = docs.parse_delete_request(body, ctx.q("encoding-type"))
    bucket = await the_bucket(ctx, rt)
    outcomes = await ctx.run(rt.objects.delete_many, bucket, request.targets)
    return xml_response(docs.delete_result(outcomes, request.quiet, request.url_encoded))


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``/bucket/key[?versionId=v]`` with the key URL-encoded, as the SDKs send it."""
    path, _, query = value.partition("?")
    path = path.lstrip("/")
    bucket, sep, key = path.partition("/")
    if not sep or not bucket or not key:
        raise OssError("InvalidArgument", "x-oss-copy-source must be /bucket/key.")
    version_id = None
    for name, v in parse_qsl(query, keep_blank_values=True):
        if name == "versionId":
            version_id = v
    return unquote(bucket), unquote(key), version_id


async def copy_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    source_name, source_key, source_vid = parse_copy_source(ctx.headers["x-oss-copy-source"])
    target = await the_bucket(ctx, rt)
    # Reading the source was authorized (GetObject) when the request was admitted.
    source_bucket = await ctx.run(rt.buckets.require, source_name)
    directive = (ctx.header("x-oss-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise OssError("InvalidArgument", "x-oss-metadata-directive must be COPY or REPLACE.")
    replace = attrs_from_headers(ctx.headers) if directive == "REPLACE" else None
    tagging = (ctx.header("x-oss-tagging-directive") or "COPY").upper()
    if tagging not in ("COPY", "REPLACE"):
        raise OssError("InvalidArgument", "x-oss-tagging-directive must be COPY or REPLACE.")
    tags = parse_tagging_header(ctx.header("x-oss-tagging")) if tagging == "REPLACE" else None
    source_version = await ctx.run(rt.objects.get, source_bucket, source_key, source_vid)
    rt.restores.check_readable(source_version)
    check_copy_conditions(ctx.headers, source_version)
    wanted = await sse.wanted_for(ctx, rt, target)
    if sse_copy.keeps(source_version.encryption, wanted):
        source, version = await ctx.run(
            rt.objects.copy,
            source_bucket,
            source_key,
            source_vid,
            target,
            object_key(ctx),
            owner_id=target.owner_id,
            replace=replace,
            acl=object_acl(ctx.header("x-oss-object-acl")),
            forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
            tags=tags,
            storage_class=storage_class(ctx.header("x-oss-storage-class")),
        )
    else:
        source, version = await ctx.run(
            sse_copy.copy_reencrypted,
            rt,
            wanted,
            source_bucket,
            source_key,
            source_vid,
            target,
            object_key(ctx),
            owner_id=target.owner_id,
            replace_attrs=replace,
            acl=object_acl(ctx.header("x-oss-object-acl")),
            forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
            tags=tags,
            storage_class=storage_class(ctx.header("x-oss-storage-class")),
        )
    response = xml_response(docs.copy_result(version))
    response.header("x-oss-hash-crc64ecma", version.crc64)
    if source_bucket.versioning is not Versioning.OFF:
        response.header("x-oss-copy-source-version-id", source.version_id)
    if target.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response


def check_copy_conditions(headers: Mapping[str, str], source: ObjectVersion) -> None:
    mapped = {
        "if-match": headers.get("x-oss-copy-source-if-match"),
        "if-none-match": headers.get("x-oss-copy-source-if-none-match"),
        "if-modified-since": headers.get("x-oss-copy-source-if-modified-since"),
        "if-unmodified-since": headers.get("x-oss-copy-source-if-unmodified-since"),
    }
    try:
        check_conditions({k: v for k, v in mapped.items() if v is not None}, source)
    except OssError as error:
        if error.code == "NotModified":
            raise OssError("PreconditionFailed", "A copy-source condition did not hold.") from None
        raise


async def put_object_tagging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    tags = docs.parse_tagging(await ctx.read_body())
    return await _set_tags(ctx, rt, tags)


async def delete_object_tagging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    response = await _set_tags(ctx, rt, {})
    response.status = 204
    return response


async def _set_tags(ctx: RequestContext, rt: RegionRuntime, tags: dict[str, str]) -> Response:
    bucket = await the_bucket(ctx, rt)
    version = await ctx.run(rt.objects.set_tags, bucket, object_key(ctx), ctx.q("versionId"), tags)
    response = Response()
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response


async def get_object_tagging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_version(ctx, rt)
    response = xml_response(docs.tagging(version.tags))
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response


async def put_object_acl(ctx: RequestContext, rt: RegionRuntime) -> Response:
    value = ctx.header("x-oss-object-acl")
    if value is None:
        raise OssError("MissingArgument", "The x-oss-object-acl header is required.")
    bucket = await the_bucket(ctx, rt)
    version = await ctx.run(
        rt.objects.set_acl, bucket, object_key(ctx), ctx.q("versionId"), object_acl(value)
    )
    response = Response()
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response


async def get_object_acl(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_version(ctx, rt)
    response = xml_response(docs.acl_policy(bucket.owner_id, version.acl.value))
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response
