"""The AppendObject handler: ``POST /key?append&position=N``."""

from __future__ import annotations

from ferry.core.encryption import SseAlgorithm
from ferry.core.errors import OssError
from ferry.core.model import ObjectVersion, Versioning
from ferry.protocol import documents as docs
from ferry.protocol.handlers import sse
from ferry.protocol.handlers.common import content_length, object_key, the_bucket
from ferry.protocol.handlers.objects import attrs_from_headers
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime
from ferry.service.objects import ObjectAttrs
from ferry.service.staging import finish, receive_into


def _position(ctx: RequestContext) -> int:
    raw = ctx.q("position")
    if raw is None or not raw.isdigit():
        raise OssError("InvalidArgument", "position must be a non-negative integer.")
    return int(raw)


async def append_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    key = object_key(ctx)
    if "versionId" in ctx.query:
        raise OssError("InvalidArgument", "AppendObject does not take a versionId.")
    position = _position(ctx)
    bucket = await the_bucket(ctx, rt)
    plan = await ctx.run(rt.appends.plan, bucket, key, position)
    attrs = ObjectAttrs()
    if plan.creates:
        # Headers, metadata, tags and encryption count on the append that creates the object only.
        attrs = attrs_from_headers(ctx.headers)
        wanted = sse.requested(ctx.headers)
        if wanted is not None:
            if wanted[0] is SseAlgorithm.KMS and wanted[1]:
                raise OssError("InvalidArgument", "An appendable object cannot name a KMS key id.")
            plan = rt.appends.with_encryption(plan, rt.kms.new_encryption(*wanted)[0])
    writer = await ctx.run(rt.appends.open_writer, plan)
    await receive_into(writer, ctx.body_chunks(), expected_length=content_length(ctx))

    def commit() -> ObjectVersion:
        return rt.appends.commit(plan, finish(writer), attrs, content_md5=ctx.header("content-md5"))

    version = await ctx.run(commit)
    response = Response()
    response.header("ETag", docs.quoted_etag(version.etag))
    response.header("x-oss-next-append-position", str(version.size))
    response.header("x-oss-hash-crc64ecma", version.crc64)
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    response.headers.extend(sse.response_headers(version.encryption))
    return response
