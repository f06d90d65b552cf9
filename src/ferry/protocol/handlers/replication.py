"""Handlers of the six replication APIs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ferry.core.errors import OssError
from ferry.core.operations import Operation
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime


async def _not_yet(ctx: RequestContext, rt: RegionRuntime) -> Response:
    raise OssError("NotImplemented", f"{ctx.operation.name} is not implemented yet.")


HANDLERS: dict[Operation, Callable[[RequestContext, RegionRuntime], Awaitable[Response]]] = {
    op: _not_yet
    for op in (
        Operation.PutBucketReplication,
        Operation.GetBucketReplication,
        Operation.DeleteBucketReplication,
        Operation.PutBucketRtc,
        Operation.GetBucketReplicationLocation,
        Operation.GetBucketReplicationProgress,
    )
}
