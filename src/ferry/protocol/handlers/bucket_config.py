"""Handlers of the bucket configuration APIs: parse the document, store it, render it back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ferry.core import bucket_options as opts
from ferry.core import cors as cors_rules
from ferry.core import lifecycle as lc
from ferry.core import referer as referer_rules
from ferry.core import website as ws
from ferry.core.errors import OssError
from ferry.core.operations import Operation
from ferry.protocol import bucket_options_xml as oxml
from ferry.protocol import lifecycle_xml, website_xml
from ferry.protocol.handlers.common import bucket_name, the_bucket
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.region import RegionRuntime
from ferry.service.bucket_configs import Config

C = TypeVar("C", bound=Config)


async def _store(ctx: RequestContext, rt: RegionRuntime, value: Config) -> Response:
    await the_bucket(ctx, rt)
    await ctx.run(rt.configs.put, bucket_name(ctx), value)
    return Response()


async def _remove(ctx: RequestContext, rt: RegionRuntime, kind: type[Config]) -> Response:
    await the_bucket(ctx, rt)
    await ctx.run(rt.configs.delete, bucket_name(ctx), kind)
    return Response(status=204)


async def _load(ctx: RequestContext, rt: RegionRuntime, kind: type[C]) -> C | None:
    await the_bucket(ctx, rt)
    return await ctx.run(rt.configs.get, bucket_name(ctx), kind)


# --- CORS -------------------------------------------------------------------------


async def put_cors(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, cors_rules.validate(oxml.parse_cors(await ctx.read_body())))


async def get_cors(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, cors_rules.CorsConfiguration)
    if config is None:
        raise OssError("NoSuchCORSConfiguration", BucketName=bucket_name(ctx))
    return xml_response(oxml.cors(config))


async def delete_cors(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _remove(ctx, rt, cors_rules.CorsConfiguration)


# --- lifecycle ----------------------------------------------------------------------


async def put_lifecycle(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = lifecycle_xml.parse_lifecycle(await ctx.read_body())
    allow_overlap = (ctx.header("x-oss-allow-same-action-overlap") or "").lower() == "true"
    return await _store(ctx, rt, lc.validate(config, allow_overlap=allow_overlap))


async def get_lifecycle(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, lc.LifecycleConfiguration)
    if config is None:
        raise OssError("NoSuchLifecycle", BucketName=bucket_name(ctx))
    return xml_response(lifecycle_xml.lifecycle(config))


async def delete_lifecycle(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _remove(ctx, rt, lc.LifecycleConfiguration)


# --- referer --------------------------------------------------------------------------


async def put_referer(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, referer_rules.validate(oxml.parse_referer(await ctx.read_body())))


async def get_referer(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return xml_response(oxml.referer(await _load(ctx, rt, referer_rules.RefererConfiguration)))


# --- website --------------------------------------------------------------------------


async def put_website(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, ws.validate(website_xml.parse_website(await ctx.read_body())))


async def get_website(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, ws.WebsiteConfiguration)
    if config is None:
        raise OssError("NoSuchWebsiteConfiguration", BucketName=bucket_name(ctx))
    return xml_response(website_xml.website(config))


async def delete_website(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _remove(ctx, rt, ws.WebsiteConfiguration)


# --- logging --------------------------------------------------------------------------


async def put_logging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = oxml.parse_logging(await ctx.read_body())
    if config is None:
        return await _remove(ctx, rt, opts.LoggingConfiguration)
    bucket = await the_bucket(ctx, rt)
    target = await ctx.run(rt.buckets.find, config.target_bucket)
    if target is None or target.owner_id != bucket.owner_id or target.region != bucket.region:
        raise OssError(
            "InvalidTargetBucketForLogging",
            "The target bucket must exist, belong to the same owner and be in the same region.",
            TargetBucket=config.target_bucket,
        )
    return await _store(ctx, rt, config)


async def get_logging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return xml_response(oxml.logging_status(await _load(ctx, rt, opts.LoggingConfiguration)))


async def delete_logging(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _remove(ctx, rt, opts.LoggingConfiguration)


# --- tags -------------------------------------------------------------------------------


async def put_tags(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, opts.BucketTags(oxml.parse_bucket_tags(await ctx.read_body())))


async def get_tags(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, opts.BucketTags)
    return xml_response(oxml.bucket_tags(config.tags if config else {}))


async def delete_tags(ctx: RequestContext, rt: RegionRuntime) -> Response:
    """``?tagging`` removes every tag; ``?tagging=k1,k2`` only the keys named."""
    named = [k for k in (ctx.q("tagging") or "").split(",") if k]
    if not named:
        return await _remove(ctx, rt, opts.BucketTags)
    config = await _load(ctx, rt, opts.BucketTags)
    if config is not None:
        kept = {k: v for k, v in config.tags.items() if k not in named}
        await ctx.run(rt.configs.put, bucket_name(ctx), opts.BucketTags(kept))
    return Response(status=204)


# --- default encryption -------------------------------------------------------------------


async def put_encryption(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, oxml.parse_encryption(await ctx.read_body()))


async def get_encryption(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, opts.DefaultEncryption)
    if config is None:
        raise OssError("NoSuchServerSideEncryptionRule", BucketName=bucket_name(ctx))
    return xml_response(oxml.encryption_rule(config))


async def delete_encryption(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _remove(ctx, rt, opts.DefaultEncryption)


# --- requester pays, public access block, storage capacity ----------------------------------


async def put_request_payment(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, oxml.parse_request_payment(await ctx.read_body()))


async def get_request_payment(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, opts.RequestPayment)
    return xml_response(oxml.request_payment(config or opts.RequestPayment()))


def _no_access_point(ctx: RequestContext) -> None:
    """``x-oss-access-point-name`` names an access point's block: Ferry has no access points."""
    name = ctx.q("x-oss-access-point-name")
    if name is not None:
        raise OssError("NoSuchAccessPoint", AccessPointName=name)


async def put_bucket_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    _no_access_point(ctx)
    return await _store(ctx, rt, oxml.parse_public_access_block(await ctx.read_body()))


async def get_bucket_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    _no_access_point(ctx)
    config = await _load(ctx, rt, opts.PublicAccessBlock)
    return xml_response(oxml.public_access_block(config or opts.PublicAccessBlock()))


async def delete_bucket_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    _no_access_point(ctx)
    return await _remove(ctx, rt, opts.PublicAccessBlock)


def _account(ctx: RequestContext) -> str:
    assert ctx.principal.account_id is not None  # authorize() refuses anonymous callers first
    return ctx.principal.account_id


async def put_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = oxml.parse_public_access_block(await ctx.read_body())
    await ctx.run(rt.configs.put_account, _account(ctx), config)
    return Response()


async def get_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await ctx.run(rt.configs.get_account, _account(ctx), opts.PublicAccessBlock)
    return xml_response(oxml.public_access_block(config or opts.PublicAccessBlock()))


async def delete_public_access_block(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await ctx.run(rt.configs.delete_account, _account(ctx), opts.PublicAccessBlock)
    return Response(status=204)


async def put_storage_capacity(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _store(ctx, rt, oxml.parse_capacity(await ctx.read_body()))


async def get_storage_capacity(ctx: RequestContext, rt: RegionRuntime) -> Response:
    config = await _load(ctx, rt, opts.StorageCapacity)
    return xml_response(oxml.capacity(config or opts.StorageCapacity()))


HANDLERS: dict[Operation, Callable[[RequestContext, RegionRuntime], Awaitable[Response]]] = {
    Operation.PutBucketCors: put_cors,
    Operation.GetBucketCors: get_cors,
    Operation.DeleteBucketCors: delete_cors,
    Operation.PutBucketLifecycle: put_lifecycle,
    Operation.GetBucketLifecycle: get_lifecycle,
    Operation.DeleteBucketLifecycle: delete_lifecycle,
    Operation.PutBucketReferer: put_referer,
    Operation.GetBucketReferer: get_referer,
    Operation.PutBucketWebsite: put_website,
    Operation.GetBucketWebsite: get_website,
    Operation.DeleteBucketWebsite: delete_website,
    Operation.PutBucketLogging: put_logging,
    Operation.GetBucketLogging: get_logging,
    Operation.DeleteBucketLogging: delete_logging,
    Operation.PutBucketTags: put_tags,
    Operation.GetBucketTags: get_tags,
    Operation.DeleteBucketTags: delete_tags,
    Operation.PutBucketEncryption: put_encryption,
    Operation.GetBucketEncryption: get_encryption,
    Operation.DeleteBucketEncryption: delete_encryption,
    Operation.PutBucketRequestPayment: put_request_payment,
    Operation.GetBucketRequestPayment: get_request_payment,
    Operation.PutBucketPublicAccessBlock: put_bucket_public_access_block,
    Operation.GetBucketPublicAccessBlock: get_bucket_public_access_block,
    Operation.DeleteBucketPublicAccessBlock: delete_bucket_public_access_block,
    Operation.PutPublicAccessBlock: put_public_access_block,
    Operation.GetPublicAccessBlock: get_public_access_block,
    Operation.DeletePublicAccessBlock: delete_public_access_block,
    Operation.PutBucketStorageCapacity: put_storage_capacity,
    Operation.GetBucketStorageCapacity: get_storage_capacity,
}
