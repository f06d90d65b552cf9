"""Streaming a request body into the blob store without holding it in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ferry.core.errors import OssError
from ferry.core.model import StagedBlob
from ferry.storage.blobs import BlobStore

Runner = Callable[..., Awaitable[Any]]

MAX_OBJECT_BYTES = 5 * 1024**3
"""OSS's limit for one PutObject (larger objects go through multipart upload)."""


async def stage_stream(
    blobs: BlobStore,
    chunks: AsyncIterator[bytes],
    run: Runner,
    *,
    expected_length: int | None = None,
) -> StagedBlob:
    """Write the chunks to a new blob (digests computed on the way), fsync it, return it staged."""
    writer = blobs.open_writer()
    try:
        async for chunk in chunks:
            writer.write(chunk)
            if writer.digests.size > MAX_OBJECT_BYTES:
                raise OssError("EntityTooLarge")
        if expected_length is not None and writer.digests.size != expected_length:
            raise OssError("InvalidRequest", "The body is shorter than Content-Length.")
        staged: StagedBlob = await run(writer.finish)
    except BaseException:
        writer.abort()
        raise
    return staged
