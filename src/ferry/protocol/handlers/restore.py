"""The RestoreObject handler (readers of a cold object see the restore in GetObject/HeadObject)."""

from __future__ import annotations

from ferry.core.model import StorageClass, Versioning
from ferry.protocol.handlers.objects import read_version
from ferry.protocol.http import RequestContext, Response
from ferry.protocol.restore_xml import parse_restore_request
from ferry.region import RegionRuntime


async def restore_object(ctx: RequestContext, rt: RegionRuntime) -> Response:
    request = parse_restore_request(await ctx.read_body())
    bucket, version = await read_version(ctx, rt)
    outcome = await ctx.run(rt.restores.restore, version, request)
    response = Response(status=202 if outcome.started else 200)
    if version.storage_class is not StorageClass.ARCHIVE:
        response.header("x-oss-object-restore-priority", outcome.state.tier.value)
    if bucket.versioning is not Versioning.OFF:
        response.header("x-oss-version-id", version.version_id)
    return response
