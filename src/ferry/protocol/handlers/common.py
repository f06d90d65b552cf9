"""Small parsing helpers shared by the handlers."""

from __future__ import annotations

from ferry.core.errors import OssError
from ferry.core.model import Bucket, BucketAcl, ObjectAcl, StorageClass
from ferry.protocol.documents import Endpoints
from ferry.protocol.http import RequestContext
from ferry.region import RegionRuntime


def bucket_name(ctx: RequestContext) -> str:
    assert ctx.bucket is not None  # the router only sends bucket-level operations here
    return ctx.bucket


def object_key(ctx: RequestContext) -> str:
    assert ctx.key is not None
    return ctx.key


def int_param(ctx: RequestContext, name: str, default: int, low: int, high: int) -> int:
    raw = ctx.q(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OssError("InvalidArgument", f"{name} must be an integer.") from None
    if not low <= value <= high:
        raise OssError("InvalidArgument", f"{name} must be between {low} and {high}.")
    return value


def bucket_acl(value: str | None, default: BucketAcl = BucketAcl.PRIVATE) -> BucketAcl:
    if value is None:
        return default
    try:
        return BucketAcl(value)
    except ValueError:
        raise OssError("InvalidArgument", f"No such bucket ACL: {value!r}.") from None


def object_acl(value: str | None) -> ObjectAcl:
    if value is None:
        return ObjectAcl.DEFAULT
    try:
        return ObjectAcl(value)
    except ValueError:
        raise OssError("InvalidArgument", f"No such object ACL: {value!r}.") from None


def storage_class(value: str | None) -> StorageClass | None:
    if value is None or value == "":
        return None
    for sc in StorageClass:
        if sc.value.lower() == value.lower():
            return sc
    raise OssError("InvalidArgument", f"No such storage class: {value!r}.")


def endpoints(rt: RegionRuntime) -> Endpoints:
    return Endpoints(extranet=rt.config.endpoint, intranet=rt.config.endpoint)


def content_length(ctx: RequestContext) -> int | None:
    raw = ctx.header("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


async def the_bucket(ctx: RequestContext, rt: RegionRuntime) -> Bucket:
    """The request's bucket: as admitted when the request came in, else looked up now."""
    if ctx.bucket_record is not None and ctx.bucket_record.name == ctx.bucket:
        return ctx.bucket_record
    return rt.buckets.require(bucket_name(ctx))  # buckets are cached in memory: no thread hop
