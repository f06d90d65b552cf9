"""Cross-region replication: send the change to the destination region over signed HTTP."""

from __future__ import annotations

from collections.abc import Callable

from ferry.client.oss_client import ClientResponse, OssClient, RemoteUnavailable
from ferry.core.encryption import SseAlgorithm
from ferry.core.identity import ReplicaActor
from ferry.core.model import NULL_VERSION, ChangeKind
from ferry.protocol import replica_wire
from ferry.replication.acting_target import source_bucket_of
from ferry.replication.targets import ReplicaSource, TargetError
from ferry.storage.interfaces import ReplicaWrite


class RemoteTarget:
    def __init__(self, client: OssClient, actor_of: Callable[[str], ReplicaActor]) -> None:
        self._client = client
        self._actor_of = actor_of
        """Whom the write is for (the source bucket's account and the rule's SyncRole): the
        destination region authorizes the write with it when it crosses accounts."""

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
            else:
                with source.open_plaintext() as body:
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
