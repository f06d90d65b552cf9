"""GET and HEAD of an object with the bucket's website configuration applied on a miss.

When the object is not there (NoSuchKey) and the bucket has a website
configuration: a routing rule whose condition holds redirects (External,
AliCDN), rewrites the key (Internal) or fetches the object from its origin
(Mirror); otherwise a directory-like key is answered with its index document;
otherwise anonymous callers get the error document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import quote, urlencode

from ferry.client import mirror
from ferry.core import website as ws
from ferry.core.errors import OssError
from ferry.core.model import CONTENT_HEADERS, ObjectVersion
from ferry.protocol.handlers import objects
from ferry.protocol.handlers.common import bucket_name, object_key
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime
from ferry.service.objects import ObjectAttrs
from ferry.service.staging import finish

Serve = Callable[[RequestContext, RegionRuntime], Awaitable[Response]]


async def get_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _with_website(ctx, rt, objects.get_object)


async def head_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    return await _with_website(ctx, rt, objects.head_object)


async def _with_website(ctx: RequestContext, rt: RegionRuntime, serve: Serve) -> Response:
    try:
        return await serve(ctx, rt)
    except OssError as miss:
        if miss.code != "NoSuchKey" or ctx.q("versionId") is not None:
            raise
        config = await ctx.run(rt.configs.get, bucket_name(ctx), ws.WebsiteConfiguration)
        if config is None:
            raise
        answer = await _on_miss(ctx, rt, serve, config)
        if answer is None:
            raise
        return answer


async def _try(ctx: RequestContext, rt: RegionRuntime, serve: Serve, key: str) -> Response | None:
    try:
        return await serve(replace(ctx, key=key), rt)
    except OssError as error:
        if error.code == "NoSuchKey":
            return None
        raise


async def _on_miss(
    ctx: RequestContext, rt: RegionRuntime, serve: Serve, config: ws.WebsiteConfiguration
) -> Response | None:
    key = object_key(ctx)
    rule = ws.rule_for(config, key, 404, ctx.headers)
    if rule is not None:
        kind = rule.redirect.redirect_type
        if kind == "Internal":
            return await _try(ctx, rt, serve, ws.rewritten_key(rule, key))
        if kind in ("External", "AliCDN"):
            return _redirect(ctx, rule)
        if kind == "Mirror" and await ctx.run(_mirror, ctx, rt, rule.redirect, key) is not None:
            return await _try(ctx, rt, serve, key)
    index = ws.index_key(config, key)
    if index is not None and index != key:
        found = await _try(ctx, rt, serve, index)
        if found is not None:
            return found
    if config.error_key is not None and ctx.principal.anonymous:
        found = await _try(ctx, rt, serve, config.error_key)
        if found is not None:
            found.status = config.error_status
            return found
    return None


def _redirect(ctx: RequestContext, rule: ws.RoutingRule) -> Response:
    redirect = rule.redirect
    host = redirect.host_name or ctx.header("host") or ""
    scheme = redirect.protocol or "http"
    location = f"{scheme}://{host}/{quote(ws.rewritten_key(rule, object_key(ctx)), safe='/')}"
    if redirect.pass_query_string and ctx.query:
        location += "?" + urlencode(list(ctx.query.items()))
    return Response(status=redirect.http_redirect_code or 302).header("Location", location)


def _mirror(ctx: RequestContext, rt: RegionRuntime, redirect: ws.Redirect, key: str) -> ObjectVersion | None:
    """Fetch ``key`` from the rule's origin and store it in the bucket (blocking)."""
    bucket = ctx.bucket_record or rt.buckets.require(bucket_name(ctx))
    writer = rt.blobs.open_writer()
    try:
        query = urlencode(list(ctx.query.items()))
        fetched = mirror.fetch(redirect, key, query, ctx.headers, writer.write)
    except BaseException:
        writer.abort()
        raise
    if fetched is None:
        writer.abort()
        return None
    content = {name: fetched.headers[name] for name in CONTENT_HEADERS if name in fetched.headers}
    return rt.objects.put(
        bucket,
        key,
        finish(writer),
        ObjectAttrs(content_headers=content),
        owner_id=bucket.owner_id,
        content_md5=fetched.headers.get("content-md5") if redirect.mirror_check_md5 else None,
    )
