"""Bucket and account configurations (CORS, lifecycle, website, ...): stored, cached, typed.

Each configuration is a frozen dataclass with a ``KIND`` naming it in the store.
The region process is the only writer of its database, so a configuration read
once is cached until this service changes it: the request path (CORS, referer,
requester-pays checks) costs no query after the first.
"""

from __future__ import annotations

import threading
from typing import ClassVar, Protocol, TypeVar

from ferry.core.clock import Clock
from ferry.core.jsoncodec import from_json, to_json
from ferry.storage.sqlite_configs import SqliteConfigStore


class Config(Protocol):
    KIND: ClassVar[str]


C = TypeVar("C", bound=Config)


class _Entry:
    """One bucket's configurations: the stored JSON, decoded on first use."""

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self.decoded: dict[str, object] = {}


class BucketConfigService:
    def __init__(self, store: SqliteConfigStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}

    def _entry(self, bucket: str) -> _Entry:
        with self._lock:
            entry = self._cache.get(bucket)
            if entry is None:
                entry = _Entry(self._store.all_of(bucket))
                self._cache[bucket] = entry
            return entry

    def get(self, bucket: str, cls: type[C]) -> C | None:
        entry = self._entry(bucket)
        with self._lock:
            if cls.KIND in entry.decoded:
                return entry.decoded[cls.KIND]  # type: ignore[return-value]
            raw = entry.raw.get(cls.KIND)
            value = from_json(cls, raw) if raw is not None else None
            entry.decoded[cls.KIND] = value
            return value

    def put(self, bucket: str, value: Config) -> None:
        body = to_json(value)
        with self._lock:
            self._store.put(bucket, value.KIND, body, self._clock.now())
            self._cache.pop(bucket, None)

    def delete(self, bucket: str, cls: type[Config]) -> bool:
        with self._lock:
            found = self._store.delete(bucket, cls.KIND)
            self._cache.pop(bucket, None)
            return found

    def drop_bucket(self, bucket: str) -> None:
        """Forget every configuration of a deleted bucket."""
        with self._lock:
            self._store.drop_bucket(bucket)
            self._cache.pop(bucket, None)

    def buckets_with(self, cls: type[Config]) -> list[str]:
        return self._store.buckets_with(cls.KIND)

    # --- account-level configurations (e.g. the account's public access block) --

    def get_account(self, account_id: str, cls: type[C]) -> C | None:
        raw = self._store.get_account(account_id, cls.KIND)
        return from_json(cls, raw) if raw is not None else None

    def put_account(self, account_id: str, value: Config) -> None:
        self._store.put_account(account_id, value.KIND, to_json(value), self._clock.now())

    def delete_account(self, account_id: str, cls: type[Config]) -> None:
        self._store.delete_account(account_id, cls.KIND)
