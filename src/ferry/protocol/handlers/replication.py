"""Handlers of the six replication APIs, and of the region-to-region calls behind them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime

from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import Bucket, StagedBlob
from ferry.core.multipart import check_part_number
from ferry.core.names import check_object_key
from ferry.core.operations import Operation
from ferry.iam.authorizer import service_scope
from ferry.protocol import replica_batch, replica_wire
from ferry.protocol import replication_xml as rx
from ferry.protocol.handlers import sse
from ferry.protocol.handlers.common import bucket_name, content_length, object_key, the_bucket
from ferry.protocol.handlers.objects import attrs_from_headers
from ferry.protocol.http import RequestContext, Response, xml_response
from ferry.protocol.internal_docs import (
    encode_role_answer,
    encode_target_facts,
    parse_incoming,
    parse_role_check,
)
from ferry.region import RegionRuntime
from ferry.replication.directory import local_facts
from ferry.service.kms import encryptor
from ferry.service.staging import finish, receive_body
from ferry.storage.inline_blobs import INLINE_LIMIT
from ferry.storage.interfaces import CommitResult


async def put_bucket_replication(ctx: RequestContext, rt: RegionRuntime) -> Response:
    request = rx.parse_put_replication(await ctx.read_body())
    bucket = await the_bucket(ctx, rt)
    rule = await ctx.run(rt.replication.add_rule, bucket, request)
    return Response().header("x-oss-replication-rule-id", rule.rule_id)


async def get_bucket_replication(ctx: RequestContext, rt: RegionRuntime) -> Response:
    bucket = await the_bucket(ctx, rt)
    rules = await ctx.run(rt.replication.rules, bucket)
    return xml_response(rx.encode_replication_configuration(rules))


async def delete_bucket_replication(ctx: RequestContext, rt: RegionRuntime) -> Response:
    rule_ids = rx.parse_delete_replication(await ctx.read_body())
    bucket = await the_bucket(ctx, rt)
    await ctx.run(rt.replication.delete_rules, bucket, rule_ids)
    return Response()


async def put_bucket_rtc(ctx: RequestContext, rt: RegionRuntime) -> Response:
    rule_id, status = rx.parse_put_rtc(await ctx.read_body())
    bucket = await the_bucket(ctx, rt)
    await ctx.run(rt.replication.set_rtc, bucket, rule_id, status)
    return Response()


async def get_bucket_replication_location(ctx: RequestContext, rt: RegionRuntime) -> Response:
    await the_bucket(ctx, rt)
    return xml_response(rx.encode_replication_location(rt.replication.catalog, rt.config.name))


async def get_bucket_replication_progress(ctx: RequestContext, rt: RegionRuntime) -> Response:
    rule_id = ctx.q("rule-id")
    if not rule_id:
        raise OssError("MissingArgument", "The rule-id parameter is required.")
    bucket = await the_bucket(ctx, rt)
    progress = await ctx.run(rt.replication.progress, bucket, rule_id)
    new_object = (
        datetime.fromtimestamp(progress.new_object_time, UTC)
        if progress.new_object_time is not None
        else None
    )
    return xml_response(
        rx.encode_replication_progress(progress.rule, progress.historical_fraction, new_object)
    )


# --- region-to-region --------------------------------------------------------------------


async def describe_target(ctx: RequestContext, rt: RegionRuntime) -> Response:
    name = bucket_name(ctx)
    bucket = await ctx.run(rt.buckets.find, name)
    facts, incoming = await ctx.run(local_facts, bucket, rt.rules, name)
    return xml_response(encode_target_facts(facts, incoming))


async def register_incoming(ctx: RequestContext, rt: RegionRuntime) -> Response:
    incoming = parse_incoming(await ctx.read_body(), bucket_name(ctx))
    await ctx.run(rt.rules.add_incoming, incoming)
    return Response()


async def withdraw_incoming(ctx: RequestContext, rt: RegionRuntime) -> Response:
    incoming = parse_incoming(await ctx.read_body(), bucket_name(ctx))
    await ctx.run(rt.rules.remove_incoming, incoming)
    return Response()


async def check_replication_role(ctx: RequestContext, rt: RegionRuntime) -> Response:
    actor, keys = parse_role_check(await ctx.read_body())
    bucket = await ctx.run(rt.buckets.find, bucket_name(ctx))
    scope = service_scope(rt.config.name, rt.clock.now())
    allowed = bucket is not None and await ctx.run(rt.iam.replica_may_write, actor, bucket, keys, scope)
    return xml_response(encode_role_answer(allowed))


async def put_replica(ctx: RequestContext, rt: RegionRuntime) -> Response:
    origin = replica_wire.origin_of(ctx.headers)
    plain = attrs_from_headers(ctx.headers)
    attrs = replica_wire.attrs_of(ctx.headers, plain.content_headers, plain.user_meta)
    bucket = await the_bucket(ctx, rt)
    wanted = sse.requested(ctx.headers)
    transform = None
    if wanted is not None:
        encryption, data_key = rt.kms.new_encryption(*wanted)
        attrs = replace(attrs, encryption=encryption)
        transform = encryptor(data_key, encryption)
    writer = await receive_body(
        rt.blobs, ctx.body_chunks(), expected_length=content_length(ctx), transform=transform, inline_ok=True
    )
    key = object_key(ctx)
    applied = await ctx.run(lambda: rt.replicas.put(bucket, key, finish(writer), attrs, origin))
    return Response().header("x-ferry-replica-applied", "true" if applied else "false")


async def put_replica_batch(ctx: RequestContext, rt: RegionRuntime) -> Response:
    """Many small replicas in one request; each is authorized, checked and applied on its own
    (one item's error is its answer, not the batch's), and all commit in one group."""
    items = replica_batch.decode_items(await ctx.read_body(replica_batch.MAX_BATCH_BYTES))
    actor = replica_wire.actor_of(ctx.headers)
    bucket = await the_bucket(ctx, rt)
    results = await ctx.run(_apply_batch, rt, bucket, actor, items)
    return Response(body=replica_batch.encode_results(results)).header("Content-Type", "application/json")


def _apply_batch(
    rt: RegionRuntime, bucket: Bucket, actor: ReplicaActor, items: list[replica_batch.BatchItem]
) -> list[replica_batch.ItemResult]:
    scope = service_scope(rt.config.name, rt.clock.now())
    submitted: list[tuple[StagedBlob, Future[CommitResult | None]] | OssError] = []
    for item in items:
        try:
            check_object_key(item.key)
            rt.iam.authorize_replica(actor, Operation.PutObject, bucket, item.key, scope)
            if sse.requested(item.headers) is not None or len(item.body) > INLINE_LIMIT:
                raise OssError("InvalidArgument", "A batched replica is small and not encrypted.")
            origin = replica_wire.origin_of(item.headers)
            plain = attrs_from_headers(item.headers)
            attrs = replica_wire.attrs_of(item.headers, plain.content_headers, plain.user_meta)
            writer = rt.blobs.open_writer(small=True)
            writer.write(item.body)
            staged = finish(writer)
            submitted.append((staged, rt.replicas.submit_put(bucket, item.key, staged, attrs, origin)))
        except OssError as exc:
            submitted.append(exc)
    results = []
    for entry in submitted:
        try:
            if isinstance(entry, OssError):
                raise entry
            results.append(replica_batch.ItemResult(applied=rt.replicas.settle(*entry)))
        except OssError as exc:
            results.append(replica_batch.ItemResult(code=exc.code, message=exc.message, status=exc.status))
    return results


async def initiate_replica_upload(ctx: RequestContext, rt: RegionRuntime) -> Response:
    """A big object's replica, part 1: the upload for this change (a retry finds its own again)."""
    origin = replica_wire.origin_of(ctx.headers)
    plain = attrs_from_headers(ctx.headers)
    attrs = replica_wire.attrs_of(ctx.headers, plain.content_headers, plain.user_meta)
    bucket = await the_bucket(ctx, rt)
    wanted = sse.requested(ctx.headers)
    encryption = rt.kms.new_encryption(*wanted)[0] if wanted is not None else None
    upload, parts = await ctx.run(
        rt.replica_uploads.begin, bucket, object_key(ctx), attrs, origin, encryption
    )
    return (
        Response()
        .header(replica_wire.UPLOAD_ID, upload.upload_id)
        .header(replica_wire.PARTS, replica_wire.encode_parts(parts))
    )


async def upload_replica_part(ctx: RequestContext, rt: RegionRuntime) -> Response:
    number = check_part_number(ctx.q("partNumber"))
    bucket = await the_bucket(ctx, rt)
    upload = await ctx.run(rt.replica_uploads.require, bucket, object_key(ctx), ctx.q("uploadId") or "")
    iv, transform = await ctx.run(rt.multipart.part_cipher, upload)
    writer = await receive_body(
        rt.blobs, ctx.body_chunks(), expected_length=content_length(ctx), transform=transform
    )
    part = await ctx.run(lambda: rt.replica_uploads.add_part(upload, number, finish(writer), iv))
    return Response().header("x-oss-hash-crc64ecma", str(part.crc64))


async def complete_replica_upload(ctx: RequestContext, rt: RegionRuntime) -> Response:
    origin = replica_wire.origin_of(ctx.headers)
    plain = attrs_from_headers(ctx.headers)
    attrs = replica_wire.attrs_of(ctx.headers, plain.content_headers, plain.user_meta)
    size = ctx.header(replica_wire.SIZE) or ""
    if not size.isdigit():
        raise OssError("InvalidArgument", f"{replica_wire.SIZE} is required to complete a replica upload.")
    bucket = await the_bucket(ctx, rt)
    upload_id, key = ctx.q("uploadId") or "", object_key(ctx)
    applied = await ctx.run(rt.replica_uploads.complete, bucket, key, upload_id, attrs, origin, int(size))
    return Response().header("x-ferry-replica-applied", "true" if applied else "false")


async def delete_replica(ctx: RequestContext, rt: RegionRuntime) -> Response:
    origin = replica_wire.origin_of(ctx.headers)
    kind = replica_wire.kind_of(ctx.headers)
    bucket = await the_bucket(ctx, rt)
    version_id = ctx.header(replica_wire.VERSION_ID)
    applied = await ctx.run(rt.replicas.delete, bucket, object_key(ctx), kind, version_id, origin)
    return Response(status=204).header("x-ferry-replica-applied", "true" if applied else "false")


HANDLERS: dict[Operation, Callable[[RequestContext, RegionRuntime], Awaitable[Response]]] = {
    Operation.PutBucketReplication: put_bucket_replication,
    Operation.GetBucketReplication: get_bucket_replication,
    Operation.DeleteBucketReplication: delete_bucket_replication,
    Operation.PutBucketRtc: put_bucket_rtc,
    Operation.GetBucketReplicationLocation: get_bucket_replication_location,
    Operation.GetBucketReplicationProgress: get_bucket_replication_progress,
    Operation.FerryDescribeReplicationTarget: describe_target,
    Operation.FerryRegisterIncomingRule: register_incoming,
    Operation.FerryWithdrawIncomingRule: withdraw_incoming,
    Operation.FerryCheckReplicationRole: check_replication_role,
    Operation.FerryPutReplica: put_replica,
    Operation.FerryPutReplicaBatch: put_replica_batch,
    Operation.FerryDeleteReplica: delete_replica,
    Operation.FerryInitiateReplicaUpload: initiate_replica_upload,
    Operation.FerryUploadReplicaPart: upload_replica_part,
    Operation.FerryCompleteReplicaUpload: complete_replica_upload,
}
