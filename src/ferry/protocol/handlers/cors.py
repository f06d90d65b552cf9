"""CORS at request time: the preflight (``OPTIONS``) answer, and the headers of actual requests."""

from __future__ import annotations

from collections.abc import Mapping

from ferry.core import cors as cors_rules
from ferry.core.errors import OssError
from ferry.protocol.handlers.common import bucket_name
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
    "whitelisted by the resource's CORS spec."
)


def _allow_headers(
    config: cors_rules.CorsConfiguration, rule: cors_rules.CorsRule, origin: str
) -> list[tuple[str, str]]:
    headers = [
        ("Access-Control-Allow-Origin", "*" if "*" in rule.allowed_origins else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
    ]
    if rule.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    if "*" not in rule.allowed_origins:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if config.response_vary:
        headers.append(("Vary", "Origin"))
    return headers


async def preflight(ctx: RequestContext, rt: RegionRuntime) -> Response:
    origin = ctx.header("origin")
    if not origin:
        raise OssError("BadRequest", "Insufficient information. Origin request header needed.")
    method = ctx.header("access-control-request-method")
    if not method:
        raise OssError(
            "BadRequest", "Insufficient information. Request Access-Control-Request-Method header needed."
        )
    config = await ctx.run(rt.configs.get, bucket_name(ctx), cors_rules.CorsConfiguration)
    if config is None:
        raise OssError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    requested = [
        h.strip() for h in (ctx.header("access-control-request-headers") or "").split(",") if h.strip()
    ]
    rule = cors_rules.match(config, origin, method, requested)
    if rule is None:
        raise OssError("AccessForbidden", _NOT_ALLOWED)
    response = Response(headers=_allow_headers(config, rule, origin))
    if requested:
        response.header("Access-Control-Allow-Headers", ", ".join(requested))
    return response


def actual_request_headers(
    config: cors_rules.CorsConfiguration | None, method: str, headers: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The CORS headers of a response to a request that came with an ``Origin`` header."""
    origin = headers.get("origin")
    if config is None or not origin:
        return []
    rule = cors_rules.match(config, origin, method)
    if rule is None:
        return [("Vary", "Origin")] if config.response_vary else []
    return _allow_headers(config, rule, origin)
