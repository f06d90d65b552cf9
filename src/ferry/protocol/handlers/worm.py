"""Handlers of the retention (WORM) APIs: Initiate, Abort, Complete, Extend, Get."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ferry.core import worm
from ferry.core.errors import OssError
from ferry.core.operations import Operation
from ferry.protocol import bucket_options_xml as oxml
from ferry.protocol.handlers.common import bucket_name, the_bucket
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.region import RegionRuntime


async def _current(ctx: RequestContext, rt: RegionRuntime) -> worm.WormConfiguration | None:
    await the_bucket(ctx, rt)
    return await ctx.run(rt.configs.get, bucket_name(ctx), worm.WormConfiguration)


async def initiate(ctx: RequestContext, rt: RegionRuntime) -> Response:
    days = oxml.parse_worm_days(await ctx.read_body(), "InitiateWormConfiguration")
    policy = worm.initiate(await _current(ctx, rt), days, rt.clock.now())
    await ctx.run(rt.configs.put, bucket_name(ctx), policy)
    return Response().header("x-oss-worm-id", policy.worm_id)


async def abort(ctx: RequestContext, rt: RegionRuntime) -> Response:
    worm.abort(await _current(ctx, rt), rt.clock.now())
    await ctx.run(rt.configs.delete, bucket_name(ctx), worm.WormConfiguration)
    return Response(status=204)


async def complete(ctx: RequestContext, rt: RegionRuntime) -> Response:
    policy = worm.complete(await _current(ctx, rt), ctx.q("wormId") or "", rt.clock.now())
    await ctx.run(rt.configs.put, bucket_name(ctx), policy)
    return Response()


async def extend(ctx: RequestContext, rt: RegionRuntime) -> Response:
    days = oxml.parse_worm_days(await ctx.read_body(), "ExtendWormConfiguration")
    policy = worm.extend(await _current(ctx, rt), ctx.q("wormId") or "", days, rt.clock.now())
    await ctx.run(rt.configs.put, bucket_name(ctx), policy)
    return Response()


async def get(ctx: RequestContext, rt: RegionRuntime) -> Response:
    policy = worm.in_force(await _current(ctx, rt), rt.clock.now())
    if policy is None:
        raise OssError("NoSuchWORMConfiguration", BucketName=bucket_name(ctx))
    return xml_response(oxml.worm(policy))


HANDLERS: dict[Operation, Callable[[RequestContext, RegionRuntime], Awaitable[Response]]] = {
    Operation.InitiateBucketWorm: initiate,
    Operation.AbortBucketWorm: abort,
    Operation.CompleteBucketWorm: complete,
    Operation.ExtendBucketWorm: extend,
    Operation.GetBucketWorm: get,
}
