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

MAX_CACHED_BUCKETS = 10_000
"""More buckets than this are read again rather than cached (the cache starts over)."""


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
        """Guards the cache only: no database call is made while it is held."""
        self._cache: dict[str, _Entry] = {}
        self._generation: dict[str, int] = {}
        """Bumped by every write of a bucket's configurations: a read that began before a
        write must not cache what it read."""

    def _entry(self, bucket: str) -> _Entry:
        with self._lock:
            entry = self._cache.get(bucket)
            generation = self._generation.get(bucket, 0)
        if entry is not None:
            return entry
        entry = _Entry(self._store.all_of(bucket))
        with self._lock:
            if self._generation.get(bucket, 0) == generation:
                if len(self._cache) >= MAX_CACHED_BUCKETS:
                    self._cache.clear()
                self._cache[bucket] = entry
        return entry

    def _changed(self, bucket: str) -> None:
        with self._lock:
            self._generation[bucket] = self._generation.get(bucket, 0) + 1
            self._cache.pop(bucket, None)

    def get(self, bucket: str, cls: type[C]) -> C | None:
        entry = self._entry(bucket)
        with self._lock:
            if cls.KIND in entry.decoded:
                return entry.decoded[cls.KIND]  # type: ignore[return-value]
        raw = entry.raw.get(cls.KIND)
        value = from_json(cls, raw) if raw is not None else None
        with self._lock:
            entry.decoded[cls.KIND] = value
        return value

    def put(self, bucket: str, value: Config) -> None:
        self._store.put(bucket, value.KIND, to_json(value), self._clock.now())
        self._changed(bucket)

    def delete(self, bucket: str, cls: type[Config]) -> bool:
        found = self._store.delete(bucket, cls.KIND)
        self._changed(bucket)
        return found

    def drop_bucket(self, bucket: str) -> None:
        """Forget every configuration of a deleted bucket."""
        self._store.drop_bucket(bucket)
        self._changed(bucket)

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
