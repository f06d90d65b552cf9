"""PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy: a JSON document per bucket."""

from __future__ import annotations

import base64
import hashlib

from ferry.core.errors import OssError
from ferry.iam.policy import MAX_DOCUMENT_CHARS, PolicyKind
from ferry.protocol.handlers.common import the_bucket
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime


async def put_bucket_policy(ctx: RequestContext, rt: RegionRuntime) -> Response:
    body = await ctx.read_body(limit=4 * MAX_DOCUMENT_CHARS[PolicyKind.BUCKET])
    md5 = ctx.header("content-md5")
    if md5 is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5.strip():
        raise OssError("InvalidDigest", "The Content-MD5 you specified did not match what was received.")
    try:
        document = body.decode("utf-8")
    except UnicodeDecodeError:
        raise OssError("InvalidPolicyDocument", "The policy document must be UTF-8 JSON.") from None
    bucket = await the_bucket(ctx, rt)
    await ctx.run(rt.iam.put_bucket_policy, bucket, document)
    return Response()


async def get_bucket_policy(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    document = await ctx.run(rt.iam.bucket_policy_document, bucket)
    return Response(headers=[("Content-Type", "application/json")], body=document.encode())


async def delete_bucket_policy(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    await ctx.run(rt.iam.delete_bucket_policy, bucket.name)
    return Response(status=204)
