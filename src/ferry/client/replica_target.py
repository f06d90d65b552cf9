"""Cross-region replication: send the change to the destination region over signed HTTP."""

from __future__ import annotations

from pathlib import Path

from ferry.client.oss_client import OssClient, RemoteUnavailable
from ferry.core.model import NULL_VERSION, ChangeKind, ObjectVersion
from ferry.protocol import replica_wire
from ferry.replication.targets import TargetError
from ferry.storage.interfaces import ReplicaWrite


class RemoteTarget:
    def __init__(self, client: OssClient) -> None:
        self._client = client

    def put(self, dest_bucket: str, version: ObjectVersion, data: Path | None, origin: ReplicaWrite) -> None:
        headers = replica_wire.put_headers(version, origin, versioned=version.version_id != NULL_VERSION)
        try:
            if data is None or version.size == 0:
                response = self._client.request("PUT", dest_bucket, version.key, headers=headers)
            else:
                with open(data, "rb") as body:
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
        _check(response.status, response.body)

    def delete(
        self, dest_bucket: str, key: str, kind: ChangeKind, version_id: str | None, origin: ReplicaWrite
    ) -> None:
        headers = replica_wire.delete_headers(
            kind, None if version_id == NULL_VERSION else version_id, origin
        )
        try:
            response = self._client.request("DELETE", dest_bucket, key, headers=headers)
        except RemoteUnavailable as exc:
            raise TargetError(str(exc)) from exc
        _check(response.status, response.body)


def _check(status: int, body: bytes) -> None:
    if status >= 300:
        raise TargetError(f"destination answered {status}: {body[:300]!r}")
