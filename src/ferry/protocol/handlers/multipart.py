"""Handlers of the multipart upload operations."""

from __future__ import annotations

import base64
from urllib.parse import quote

from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectType, ObjectVersion, Versioning
from ferry.core.multipart import MultipartUpload, Part, check_part_number
from ferry.core.operations import Operation
from ferry.protocol import documents as docs
from ferry.protocol import multipart_docs as mdocs
from ferry.protocol.handlers import sse
from ferry.protocol.handlers.common import (
    bucket_name,
    content_length,
    int_param,
    object_acl,
    object_key,
    the_bucket,
)
from ferry.protocol.handlers.objects import (
    attrs_from_headers,
    check_copy_conditions,
    check_target_acl,
    flag,
    parse_copy_source,
)
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.protocol.ranges import parse_range
from ferry.region import RegionRuntime
from ferry.service.staging import finish, receive_body
from ferry.service.upload_listing import list_uploads


def _url_encoding(ctx: RequestContext) -> bool:
    encoding = ctx.q("encoding-type")
    if encoding not in (None, "", "url"):
        raise OssError("InvalidArgument", "encoding-type must be url.")
    return encoding == "url"


def _upload_id(ctx: RequestContext) -> str:
    upload_id = ctx.q("uploadId")
    if not upload_id:
        raise OssError("InvalidArgument", "uploadId must not be empty.")
    return upload_id


async def _the_upload(ctx: RequestContext, rt: RegionRuntime) -> tuple[Bucket, MultipartUpload]:
    bucket = await the_bucket(ctx, rt)
    upload = await ctx.run(rt.multipart.require, bucket, object_key(ctx), _upload_id(ctx))
    return bucket, upload


async def initiate_multipart_upload(ctx: RequestContext, rt: RegionRuntime) -> Response:
    key = object_key(ctx)
    url = _url_encoding(ctx)
    attrs = attrs_from_headers(ctx.headers)
    bucket = await the_bucket(ctx, rt)
    wanted = sse.requested(ctx.headers)
    encryption = rt.kms.new_encryption(*wanted)[0] if wanted is not None else None
    upload = await ctx.run(
        rt.multipart.initiate,
        bucket,
        key,
        attrs,
        encryption=encryption,
        sequential="sequential" in ctx.query,
        forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
    )
    response = xml_response(mdocs.initiate_result(bucket.name, key, upload.upload_id, url))
    response.headers.extend(sse.response_headers(encryption))
    return response


def _part_response(part: Part, upload: MultipartUpload) -> Response:
    response = Response()
    response.header("ETag", docs.quoted_etag(part.etag))
    response.header("Content-MD5", base64.b64encode(bytes.fromhex(part.etag)).decode())
    response.header("x-oss-hash-crc64ecma", str(part.crc64))
    response.headers.extend(sse.response_headers(upload.encryption))
    return response


def _refuse_encryption_headers(ctx: RequestContext, api: str) -> None:
    """An upload is encrypted as it was initiated; OSS refuses the headers on its parts and
    on its completion."""
    for name in (sse.ALGORITHM, sse.KEY_ID, sse.DATA_ENCRYPTION):
        if ctx.header(name) is not None:
            raise OssError("InvalidArgument", f"{api} does not accept {name}.")


async def upload_part(ctx: RequestContext, rt: RegionRuntime) -> Response:
    number = check_part_number(ctx.q("partNumber"))
    _refuse_encryption_headers(ctx, "UploadPart")
    _, upload = await _the_upload(ctx, rt)
    iv, transform = await ctx.run(rt.multipart.part_cipher, upload)
    writer = await receive_body(
        rt.blobs, ctx.body_chunks(), expected_length=content_length(ctx), transform=transform
    )

    def commit() -> Part:
        return rt.multipart.add_part(
            upload, number, finish(writer), iv, content_md5=ctx.header("content-md5")
        )

    return _part_response(await ctx.run(commit), upload)


async def _copy_source(ctx: RequestContext, rt: RegionRuntime) -> tuple[Bucket, ObjectVersion]:
    """The version x-oss-copy-source names (through a symlink), after the copy-source-if-* checks."""
    name, key, version_id = parse_copy_source(ctx.headers["x-oss-copy-source"])
    source_bucket = await ctx.run(rt.buckets.require, name)
    version = await ctx.run(rt.objects.get, source_bucket, key, version_id)
    # Reading the source is a GetObject of its own, authorized at admission; through a symlink,
    # the target's ACL must allow it too.
    if version.object_type is ObjectType.SYMLINK:
        followed = await ctx.run(rt.symlinks.follow, source_bucket, version)
        check_target_acl(ctx, source_bucket, followed.target.acl, Operation.GetObject)
        version = followed.view
    rt.restores.check_readable(version)
    check_copy_conditions(ctx.headers, version)
    return source_bucket, version


_COPY_ATTEMPTS = 3


async def upload_part_copy(ctx: RequestContext, rt: RegionRuntime) -> Response:
    number = check_part_number(ctx.q("partNumber"))
    _, upload = await _the_upload(ctx, rt)
    for attempt in range(1, _COPY_ATTEMPTS + 1):
        source_bucket, source = await _copy_source(ctx, rt)
        byte_range = parse_range(ctx.header("x-oss-copy-source-range"), source.size)
        start, end = (byte_range.start, byte_range.end) if byte_range is not None else (0, source.size)
        try:
            part = await ctx.run(rt.multipart.copy_part, upload, number, source, start, end)
            break
        except FileNotFoundError:
            # The source was overwritten between finding its version and opening its bytes.
            if attempt == _COPY_ATTEMPTS:
                raise
    response = xml_response(mdocs.copy_part_result(part))
    response.header("ETag", docs.quoted_etag(part.etag))
    response.header("x-oss-hash-crc64ecma", str(part.crc64))
    if source_bucket.versioning is not Versioning.OFF:
        response.header("x-oss-copy-source-version-id", source.version_id)
    response.headers.extend(sse.response_headers(upload.encryption))
    return response


async def complete_multipart_upload(ctx: RequestContext, rt: RegionRuntime) -> Response:
    _refuse_encryption_headers(ctx, "CompleteMultipartUpload")
    key = object_key(ctx)
    url = _url_encoding(ctx)
    upload_id = _upload_id(ctx)
    body = await ctx.read_body()
    requested: list[tuple[int, str]] | None
    if (ctx.header("x-oss-complete-all") or "").lower() == "yes":
        if body.strip():
            raise OssError("InvalidArgument", "With x-oss-complete-all: yes the request takes no body.")
        requested = None
    else:
        requested = mdocs.parse_complete(body)
    acl_header = ctx.header("x-oss-object-acl")
    bucket = await the_bucket(ctx, rt)
    version = await ctx.run(
        rt.multipart.complete,
        bucket,
        key,
        upload_id,
        requested,
        acl=object_acl(acl_header) if acl_header is not None else None,
        forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
    )
    location = f"{rt.config.endpoint}/{bucket.name}/{quote(key, safe='/')}"
    response = xml_response(mdocs.complete_result(location, bucket.name, key, version.etag, url))
    response.header("ETag", docs.quoted_etag(version.etag))
    response.header("x-oss-hash-crc64ecma", version.crc64)
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    response.headers.extend(sse.response_headers(version.encryption))
    return response


async def abort_multipart_upload(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    await ctx.run(rt.multipart.abort, bucket, object_key(ctx), _upload_id(ctx))
    return Response(status=204)


async def list_parts(ctx: RequestContext, rt: RegionRuntime) -> Response:
    url = _url_encoding(ctx)
    max_parts = int_param(ctx, "max-parts", 1000, 1, 1000)
    marker = int_param(ctx, "part-number-marker", 0, 0, 10000)
    bucket, upload = await _the_upload(ctx, rt)
    page = await ctx.run(rt.multipart.list_parts, upload, marker, max_parts)
    request = mdocs.PartsRequest(
        bucket=bucket.name,
        key=upload.key,
        upload_id=upload.upload_id,
        storage_class=upload.storage_class.value,
        marker=marker,
        max_parts=max_parts,
        url=url,
    )
    return xml_response(mdocs.list_parts(request, page))


async def list_multipart_uploads(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await the_bucket(ctx, rt)
    request = mdocs.UploadsRequest(
        bucket=bucket_name(ctx),
        prefix=ctx.q("prefix") or "",
        delimiter=ctx.q("delimiter") or "",
        key_marker=ctx.q("key-marker") or "",
        upload_id_marker=ctx.q("upload-id-marker") or "",
        max_uploads=int_param(ctx, "max-uploads", 1000, 1, 1000),
        url=_url_encoding(ctx),
    )
    page = await ctx.run(
        list_uploads,
        rt.uploads,
        request.bucket,
        prefix=request.prefix,
        delimiter=request.delimiter,
        key_marker=request.key_marker,
        upload_id_marker=request.upload_id_marker,
        max_uploads=request.max_uploads,
    )
    return xml_response(mdocs.list_uploads(request, page))
