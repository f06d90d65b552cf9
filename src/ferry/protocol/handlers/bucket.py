"""Handlers of the service- and bucket-level operations."""

from __future__ import annotations

from ferry.core.bucket_options import (
    BucketTags,
    DefaultEncryption,
    LoggingConfiguration,
    check_default_encryption,
)
from ferry.core.errors import OssError
from ferry.core.model import Bucket, StorageClass, Versioning
from ferry.protocol import documents as docs
from ferry.protocol.handlers.common import (
    bucket_acl,
    bucket_name,
    endpoints,
    int_param,
    storage_class,
    the_bucket,
)
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.protocol.xmlcodec import parse, text_of
from ferry.region import RegionRuntime
from ferry.service.buckets import BucketPage
from ferry.service.listing import ObjectPage, list_objects
from ferry.service.version_listing import list_versions


def _owner(ctx: RequestContext) -> str:
    assert ctx.principal.account_id is not None  # authorize() refuses anonymous callers first
    return ctx.principal.account_id


async def list_buckets(ctx: RequestContext, rt: RegionRuntime) -> Response:
    prefix, marker = ctx.q("prefix") or "", ctx.q("marker") or ""
    max_keys = int_param(ctx, "max-keys", 100, 1, 1000)
    tag_key, tag_value = ctx.q("tag-key"), ctx.q("tag-value")
    if tag_value is not None and not tag_key:
        raise OssError("InvalidArgument", "tag-value needs tag-key.")
    if tag_key:
        page = await ctx.run(_tagged_page, rt, _owner(ctx), prefix, marker, max_keys, tag_key, tag_value)
    else:
        page = await ctx.run(rt.buckets.list, _owner(ctx), prefix, marker, max_keys)
    return xml_response(docs.list_buckets(page, _owner(ctx), prefix, marker, max_keys, endpoints(rt)))


_TAG_SCAN_PAGES = 1000
"""At most this many pages of buckets are read to fill one page of tagged buckets."""


def _tagged_page(
    rt: RegionRuntime, owner: str, prefix: str, marker: str, max_keys: int, key: str, value: str | None
) -> BucketPage:
    """ListBuckets with ``tag-key`` (and ``tag-value``): only buckets carrying that tag."""
    found: list[Bucket] = []
    for _ in range(_TAG_SCAN_PAGES):
        page = rt.buckets.list(owner, prefix, marker, max_keys)
        for b in page.buckets:
            tags = rt.configs.get(b.name, BucketTags)
            if tags is not None and key in tags.tags and (value is None or tags.tags[key] == value):
                found.append(b)
                if len(found) == max_keys:
                    return BucketPage(found, True, b.name)
        if not page.truncated:
            break
        marker = page.next_marker
    return BucketPage(found, False, "")


async def put_bucket(ctx: RequestContext, rt: RegionRuntime) -> Response:
    body = await ctx.read_body()
    wanted_class = None
    if body.strip():
        config = parse(body, "CreateBucketConfiguration")
        wanted_class = storage_class(text_of(config, "StorageClass"))
    acl = bucket_acl(ctx.header("x-oss-acl"))
    default_encryption = _default_encryption(ctx)
    await ctx.run(
        rt.buckets.create, _owner(ctx), bucket_name(ctx), acl, wanted_class or StorageClass.STANDARD
    )
    if default_encryption is not None:
        await ctx.run(rt.configs.put, bucket_name(ctx), default_encryption)
    return Response().header("Location", "/" + bucket_name(ctx))


def _default_encryption(ctx: RequestContext) -> DefaultEncryption | None:
    """PutBucket may set the bucket's default encryption with the SSE headers of PutObject."""
    algorithm = ctx.header("x-oss-server-side-encryption")
    if algorithm is None:
        return None
    return check_default_encryption(
        algorithm,
        ctx.header("x-oss-server-side-encryption-key-id"),
        ctx.header("x-oss-server-side-data-encryption"),
    )


async def delete_bucket(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await ctx.run(rt.buckets.delete, bucket_name(ctx))
    # Bucket policies also keep the bucket's creation time, so a stale one never applies to a
    # new bucket of the same name; removing it is housekeeping.
    await ctx.run(rt.iam.delete_bucket_policy, bucket_name(ctx))
    await ctx.run(rt.configs.drop_bucket, bucket_name(ctx))
    return Response(status=204)


async def head_bucket(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await the_bucket(ctx, rt)
    return Response()


async def get_bucket_info(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    replicating = await ctx.run(rt.replication.has_live_rules, bucket.name)
    encryption = await ctx.run(rt.configs.get, bucket.name, DefaultEncryption)
    logging = await ctx.run(rt.configs.get, bucket.name, LoggingConfiguration)
    return xml_response(
        docs.bucket_info(
            bucket,
            endpoints(rt),
            cross_region_replication=replicating,
            encryption=encryption,
            logging=logging,
        )
    )


async def get_bucket_location(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    return xml_response(docs.bucket_location(bucket))


async def get_bucket_stat(ctx: RequestContext, rt: RegionRuntime) -> Response:
    stats = await ctx.run(rt.buckets.stat, bucket_name(ctx))
    by_class = await ctx.run(rt.usage.by_class, bucket_name(ctx))
    return xml_response(docs.bucket_stat(stats, by_class))


async def put_bucket_acl(ctx: RequestContext, rt: RegionRuntime) -> Response:
    value = ctx.header("x-oss-acl")
    if value is None:
        raise OssError("MissingArgument", "The x-oss-acl header is required.")
    await ctx.run(rt.buckets.set_acl, bucket_name(ctx), bucket_acl(value))
    return Response()


async def get_bucket_acl(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    return xml_response(docs.acl_policy(bucket.owner_id, bucket.acl.value))


async def put_bucket_versioning(ctx: RequestContext, rt: RegionRuntime) -> Response:
    status = docs.parse_versioning(await ctx.read_body())
    await the_bucket(ctx, rt)
    await ctx.run(rt.replication.check_versioning_change, bucket_name(ctx))
    await ctx.run(rt.buckets.set_versioning, bucket_name(ctx), Versioning(status))
    return Response()


async def get_bucket_versioning(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    return xml_response(docs.versioning_configuration(bucket.versioning.value))


async def list_live_channels(ctx: RequestContext, rt: RegionRuntime) -> Response:
    # Ferry has no live channels: the list is empty, as for a bucket that never made one.
    max_keys = int_param(ctx, "max-keys", 100, 1, 1000)
    return xml_response(docs.empty_live_channels(ctx.q("prefix") or "", ctx.q("marker") or "", max_keys))


async def list_object_versions(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await the_bucket(ctx, rt)
    params = _list_params(ctx)
    key_marker, version_marker = ctx.q("key-marker") or "", ctx.q("version-id-marker") or ""
    page = await ctx.run(
        list_versions,
        rt.store,
        params.bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        key_marker=key_marker,
        version_marker=version_marker,
        max_keys=params.max_keys,
    )
    restores = rt.restores.statuses_of(page.versions)
    return xml_response(docs.list_versions(params, key_marker, version_marker, page, restores))


_MAX_LIST_PARAM_BYTES = 1024
_LIST_TEXT_PARAMS = ("prefix", "delimiter", "marker", "key-marker", "version-id-marker", "start-after")


def _list_params(ctx: RequestContext) -> docs.ListParams:
    for name in _LIST_TEXT_PARAMS:
        value = ctx.q(name)
        if value is not None and len(value.encode("utf-8", "surrogateescape")) > _MAX_LIST_PARAM_BYTES:
            raise OssError(
                "InvalidArgument",
                f"{name} must not exceed {_MAX_LIST_PARAM_BYTES} bytes.",
                ArgumentName=name,
                ArgumentValue=value,
            )
    encoding = ctx.q("encoding-type")
    if encoding not in (None, "", "url"):
        raise OssError("InvalidArgument", "encoding-type must be url.")
    return docs.ListParams(
        bucket=bucket_name(ctx),
        prefix=ctx.q("prefix") or "",
        delimiter=ctx.q("delimiter") or "",
        max_keys=int_param(ctx, "max-keys", 100, 0, 1000),
        url_encoding=encoding == "url",
    )


async def list_objects_any(ctx: RequestContext, rt: RegionRuntime) -> Response:
    if ctx.q("list-type") == "2":
        return await _list_objects_v2(ctx, rt)
    if ctx.q("list-type") not in (None, ""):
        raise OssError("InvalidArgument", "list-type must be 2 when given.")
    params = _list_params(ctx)
    marker = ctx.q("marker") or ""
    page = await _page(ctx, rt, params, marker)
    restores = rt.restores.statuses_of(page.objects)
    return xml_response(docs.list_objects_v1(params, marker, page, restores))


async def _page(ctx: RequestContext, rt: RegionRuntime, params: docs.ListParams, after: str) -> ObjectPage:
    return await ctx.run(
        list_objects,
        rt.store,
        params.bucket,
        prefix=params.prefix,
        delimiter=params.delimiter,
        after=after,
        max_keys=params.max_keys,
    )


async def _list_objects_v2(ctx: RequestContext, rt: RegionRuntime) -> Response:
    params = _list_params(ctx)
    token = ctx.q("continuation-token") or None
    start_after = ctx.q("start-after") or ""
    after = docs.parse_continuation_token(token) if token else start_after
    page = await _page(ctx, rt, params, after)
    fetch_owner = (ctx.q("fetch-owner") or "").lower() == "true"
    restores = rt.restores.statuses_of(page.objects)
    return xml_response(docs.list_objects_v2(params, token, start_after, fetch_owner, page, restores))
