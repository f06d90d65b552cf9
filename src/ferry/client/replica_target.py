"""Cross-region replication: send the change to the destination region over signed HTTP.

An object up to the multipart threshold goes as one streamed PUT; a bigger one as a multipart
upload at the destination (Initiate / UploadPart per range / Complete, every call carrying the
replica headers), so a failure or a kill -9 in the middle costs a part, not the whole object: the
retried task finds its upload again (the destination derives its id from the change) and sends
only the parts it lacks.  Bytes are streamed from the source blob; nothing is held whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import BinaryIO

from ferry.client.oss_client import ClientResponse, OssClient, RemoteUnavailable
from ferry.core.encryption import SseAlgorithm
from ferry.core.identity import ReplicaActor
from ferry.core.model import NULL_VERSION, ChangeKind
from ferry.protocol import replica_batch, replica_wire
from ferry.replication.acting_target import source_bucket_of
from ferry.replication.targets import ReplicaSource, TargetError
from ferry.storage.inline_blobs import INLINE_LIMIT
from ferry.storage.interfaces import ReplicaWrite

BATCH_OBJECT_LIMIT = INLINE_LIMIT
"""Versions up to this size may travel in a batch (the destination keeps them inline)."""
DEFAULT_THRESHOLD = 64 * 1024 * 1024
DEFAULT_PART = 16 * 1024 * 1024
MAX_PARTS = 1000
"""Parts grow beyond the configured size so that no object needs more (the answer listing the
parts an upload holds stays a small header)."""


class _PartBody(io.RawIOBase):
    """``length`` bytes of the source from ``start``, opened lazily; ``seek(0)`` starts over
    (the client's one retry on a dropped keep-alive connection rewinds its body)."""

    def __init__(self, open_at: Callable[[int], BinaryIO], start: int, length: int) -> None:
        self._open_at = open_at
        self._start = start
        self._length = length
        self._left = length
        self._file: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if self._file is None:
            self._file = self._open_at(self._start)
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(want)
        if not data:
            raise OSError("the source blob is shorter than its version says")
        self._left -= len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a part body rewinds only to its start")
        self._drop()
        self._left = self._length
        return 0

    def _drop(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self._drop()
        super().close()


def part_size_for(size: int, configured: int) -> int:
    return max(configured, -(-size // MAX_PARTS))


class RemoteTarget:
    def __init__(
        self,
        client: OssClient,
        actor_of: Callable[[str], ReplicaActor],
        *,
        multipart_threshold: int = DEFAULT_THRESHOLD,
        part_size: int = DEFAULT_PART,
    ) -> None:
        self._client = client
        self._actor_of = actor_of
        """Whom the write is for (the source bucket's account and the rule's SyncRole): the
        destination region authorizes the write with it when it crosses accounts."""
        self._threshold = multipart_threshold
        self._part_size = part_size
        self.batch_object_limit = BATCH_OBJECT_LIMIT

    def _actor_headers(self, origin: ReplicaWrite) -> dict[str, str]:
        return replica_wire.actor_headers(self._actor_of(source_bucket_of(origin)))

    def put(self, dest_bucket: str, source: ReplicaSource, origin: ReplicaWrite) -> None:
        version = source.version
        headers = replica_wire.put_headers(version, origin, versioned=version.version_id != NULL_VERSION)
        headers.update(self._actor_headers(origin))
        if source.encryption is not None:
            algorithm, key_id = source.encryption
            headers["x-oss-server-side-encryption"] = algorithm.value
            if algorithm is SseAlgorithm.KMS and key_id:
                headers["x-oss-server-side-encryption-key-id"] = key_id
        try:
            if source.open_plaintext is None or version.size == 0:
                response = self._client.request("PUT", dest_bucket, version.key, headers=headers)
            elif version.size > self._threshold:
                response = self._put_in_parts(
                    dest_bucket, source.open_plaintext, version.key, version.size, headers
                )
            else:
                with source.open_plaintext(0) as body:
                    response = self._client.request(
                        "PUT",
                        dest_bucket,
                        version.key,
                        headers=headers,
                        body=body,
                        content_length=version.size,
                    )
        except (RemoteUnavailable, OSError) as exc:
            raise TargetError(str(exc)) from exc
        _check(response)

    def _put_in_parts(
        self,
        dest_bucket: str,
        open_at: Callable[[int], BinaryIO],
        key: str,
        size: int,
        headers: dict[str, str],
    ) -> ClientResponse:
        started = self._client.request("POST", dest_bucket, key, query=[("uploads", "")], headers=headers)
        _check(started)
        upload_id = started.headers.get(replica_wire.UPLOAD_ID, "")
        if not upload_id:
            raise TargetError("the destination did not name a replica upload")
        held = replica_wire.decode_parts(started.headers.get(replica_wire.PARTS, ""))
        part_size = part_size_for(size, self._part_size)
        # Only what routes and authorizes a part: the replica's metadata goes with Initiate
        # and Complete (the actor headers, because the destination authorizes every call).
        part_headers = {
            name: value
            for name, value in headers.items()
            if name in (replica_wire.SEQ, replica_wire.VERSION_SEQ, replica_wire.SOURCE)
            or name in (replica_wire.ACCOUNT, replica_wire.ROLE)
        }
        for number, start in enumerate(range(0, size, part_size), start=1):
            length = min(part_size, size - start)
            if held.get(number) == length:
                continue  # a retry: this part arrived before (the CRC-64 check at completion covers it)
            with _PartBody(open_at, start, length) as body:
                sent = self._client.request(
                    "PUT",
                    dest_bucket,
                    key,
                    query=[("partNumber", str(number)), ("uploadId", upload_id)],
                    headers=part_headers,
                    body=body,  # type: ignore[arg-type]
                    content_length=length,
                )
            _check(sent)
        done = dict(headers)
        done[replica_wire.SIZE] = str(size)
        return self._client.request("POST", dest_bucket, key, query=[("uploadId", upload_id)], headers=done)

    def put_batch(
        self, dest_bucket: str, items: Sequence[tuple[ReplicaSource, ReplicaWrite]]
    ) -> list[TargetError | None]:
        """Small plain versions in one request (``protocol/replica_batch``); all items come
        from one rule, so they act for one source bucket."""
        if not items:
            return []
        batch = []
        for source, origin in items:
            version = source.version
            if source.encryption is not None or version.size > self.batch_object_limit:
                raise ValueError("a batched replica is small and not encrypted")
            headers = replica_wire.put_headers(version, origin, versioned=version.version_id != NULL_VERSION)
            body = b""
            if source.open_plaintext is not None and version.size:
                with source.open_plaintext(0) as stored:
                    body = stored.read(version.size)
                if len(body) != version.size:
                    raise TargetError("the source blob is shorter than its version says")
            batch.append(replica_batch.BatchItem(version.key, headers, body))
        headers = self._actor_headers(items[0][1])
        try:
            response = self._client.request(
                "POST",
                dest_bucket,
                query=[(replica_batch.SUBRESOURCE, "")],
                headers=headers,
                body=replica_batch.encode_items(batch),
            )
        except (RemoteUnavailable, OSError) as exc:
            raise TargetError(str(exc)) from exc
        _check(response)
        try:
            results = replica_batch.decode_results(response.body, len(batch))
        except ValueError as exc:
            raise TargetError(str(exc)) from exc
        return [
            None if r.ok else TargetError(f"destination answered {r.status} {r.code}: {r.message}")
            for r in results
        ]

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None:
        headers = replica_wire.delete_headers(
            kind, None if version_id == NULL_VERSION else version_id, origin
        )
        headers.update(self._actor_headers(origin))
        try:
            response = self._client.request("DELETE", dest_bucket, key, headers=headers)
        except RemoteUnavailable as exc:
            raise TargetError(str(exc)) from exc
        _check(response)


def _check(response: ClientResponse) -> None:
    if response.status >= 300:
        raise TargetError(f"destination answered {response.status}: {response.body[:300]!r}")
