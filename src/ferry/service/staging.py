"""Streaming a request body into the blob store without holding it in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ferry.core.errors import OssError
from ferry.core.model import StagedBlob
from ferry.storage.blobs import BlobStore, BlobWriter, Transform
from ferry.storage.inline_blobs import INLINE_LIMIT

MAX_OBJECT_BYTES = 5 * 1024**3
"""OSS's limit for one PutObject (larger objects go through multipart upload)."""


async def receive_body(
    blobs: BlobStore,
    chunks: AsyncIterator[bytes],
    *,
    expected_length: int | None = None,
    transform: Transform | None = None,
    inline_ok: bool = False,
) -> BlobWriter:
    """Write the chunks to a new blob (digests computed on the way); the caller finishes it.

    ``inline_ok``: the caller commits through the metadata store, so a body known to be
    small may stay in memory and be stored inline with its version."""
    small = inline_ok and expected_length is not None and expected_length <= INLINE_LIMIT
    writer = blobs.open_writer(transform, small=small)
    return await receive_into(writer, chunks, expected_length=expected_length)


async def receive_into(
    writer: BlobWriter, chunks: AsyncIterator[bytes], *, expected_length: int | None = None
) -> BlobWriter:
    """Write the chunks to an open blob writer (aborted on any failure); the caller finishes it."""
    limit = INLINE_LIMIT if writer.is_inline else MAX_OBJECT_BYTES
    try:
        async for chunk in chunks:
            writer.write(chunk)
            if writer.digests.size > limit:
                if writer.is_inline:
                    raise OssError("InvalidRequest", "The body is longer than Content-Length.")
                raise OssError("EntityTooLarge")
        if expected_length is not None and writer.digests.size != expected_length:
            raise OssError("InvalidRequest", "The body is shorter than Content-Length.")
    except BaseException:
        writer.abort()
        raise
    return writer


def finish(writer: BlobWriter) -> StagedBlob:
    """fsync and rename the blob into place (blocking: run it in an executor)."""
    try:
        return writer.finish()
    except BaseException:
        writer.abort()
        raise
