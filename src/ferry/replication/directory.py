"""Where replication finds out about destination buckets: this region's stores, or another region.

Another region is asked over signed HTTP as the replication service identity.
"""

from __future__ import annotations

from collections.abc import Callable

from ferry.client.oss_client import OssClient, RemoteUnavailable, raise_for_error
from ferry.config import FerryConfig
from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import Bucket
from ferry.core.replication_rules import TargetBucketFacts
from ferry.protocol.internal_docs import (
    ROLE_SUBRESOURCE,
    TARGET_SUBRESOURCE,
    encode_incoming,
    encode_role_check,
    parse_role_answer,
    parse_target_facts,
)
from ferry.storage.interfaces import AccessKey
from ferry.storage.sqlite_replication import IncomingRule, SqliteReplicationStore


def local_facts(
    bucket: Bucket | None, rules: SqliteReplicationStore, name: str
) -> tuple[TargetBucketFacts, int]:
    if bucket is None:
        return TargetBucketFacts(exists=False), 0
    facts = TargetBucketFacts(
        exists=True,
        region=bucket.region,
        versioning=bucket.versioning.value or None,
        owner_id=bucket.owner_id,
    )
    return facts, rules.count_incoming(name)


class RegionDirectory:
    def __init__(
        self,
        own_region: str,
        config: FerryConfig,
        find_bucket: Callable[[str], Bucket | None],
        rules: SqliteReplicationStore,
        service_key: AccessKey,
        role_check: Callable[[ReplicaActor, Bucket, list[str]], bool],
    ) -> None:
        self._own = own_region
        self._config = config
        self._find_bucket = find_bucket
        self._rules = rules
        self._key = service_key
        self._role_check = role_check

    def _client(self, location: str) -> OssClient:
        region = self._config.region(location)
        return OssClient(region.endpoint, self._key, region.name, timeout=10.0)

    def describe(self, bucket: str, location: str) -> tuple[TargetBucketFacts, int]:
        if location == self._own:
            return local_facts(self._find_bucket(bucket), self._rules, bucket)
        response = self._call(location, "GET", bucket, [(TARGET_SUBRESOURCE, "")])
        return parse_target_facts(response)

    def register(self, location: str, incoming: IncomingRule) -> None:
        if location == self._own:
            self._rules.add_incoming(incoming)
            return
        self._call(
            location,
            "POST",
            incoming.dest_bucket,
            [(TARGET_SUBRESOURCE, ""), ("comp", "add")],
            encode_incoming(incoming),
        )

    def withdraw(self, location: str, incoming: IncomingRule) -> None:
        if location == self._own:
            self._rules.remove_incoming(incoming)
            return
        self._call(
            location,
            "POST",
            incoming.dest_bucket,
            [(TARGET_SUBRESOURCE, ""), ("comp", "delete")],
            encode_incoming(incoming),
        )

    def role_may_write(self, location: str, bucket: str, actor: ReplicaActor, probe_keys: list[str]) -> bool:
        """Whether ``actor``'s SyncRole may write the probe keys into ``bucket`` (asked where it lives)."""
        if location == self._own:
            found = self._find_bucket(bucket)
            return found is not None and self._role_check(actor, found, probe_keys)
        body = self._call(
            location, "POST", bucket, [(ROLE_SUBRESOURCE, "")], encode_role_check(actor, probe_keys)
        )
        return parse_role_answer(body)

    def _call(
        self, location: str, method: str, bucket: str, query: list[tuple[str, str]], body: bytes = b""
    ) -> bytes:
        try:
            response = self._client(location).request(method, bucket, query=query, body=body)
        except RemoteUnavailable as exc:
            raise OssError("ServiceUnavailable", f"The region {location} cannot be reached: {exc}.") from None
        raise_for_error(response)
        return response.body
