"""The PutSymlink and GetSymlink handlers (reading through a symlink is GetObject's job)."""

from __future__ import annotations

from email.utils import formatdate
from urllib.parse import quote, unquote

from ferry.core.errors import OssError
from ferry.core.model import Versioning
from ferry.protocol import documents as docs
from ferry.protocol.handlers.common import object_key, the_bucket
from ferry.protocol.handlers.objects import attrs_from_headers, flag, read_version
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime

TARGET = "x-oss-symlink-target"


async def put_symlink(ctx: RequestContext, rt: RegionRuntime) -> Response:
    key = object_key(ctx)
    raw = ctx.header(TARGET)
    if not raw:
        raise OssError("MissingArgument", f"The {TARGET} header is required.")
    attrs = attrs_from_headers(ctx.headers)
    bucket = await the_bucket(ctx, rt)
    version = await ctx.run(
        rt.symlinks.put,
        bucket,
        key,
        unquote(raw),  # the SDKs send the target URL-encoded
        attrs,
        forbid_overwrite=flag(ctx.headers, "x-oss-forbid-overwrite"),
    )
    response = Response().header("ETag", docs.quoted_etag(version.etag))
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response


async def get_symlink(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket, version = await read_version(ctx, rt)
    target = await ctx.run(rt.symlinks.target_of, version)
    response = Response()
    response.header(TARGET, quote(target, safe="/"))
    response.header("ETag", docs.quoted_etag(version.etag))
    response.header("Last-Modified", formatdate(version.created_at, usegmt=True))
    for name, value in version.user_meta.items():
        response.header(f"x-oss-meta-{name}", value)
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response
