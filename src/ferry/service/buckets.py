"""Bucket use cases: create, find, list, delete, ACL, versioning, statistics."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.core.clock import Clock
from ferry.core.errors import OssError
from ferry.core.model import Bucket, BucketAcl, StorageClass, Versioning
from ferry.core.names import check_bucket_name
from ferry.storage.interfaces import BucketStats, MetadataStore


@dataclass(frozen=True)
class BucketPage:
    buckets: list[Bucket]
    truncated: bool
    next_marker: str


class BucketService:
    def __init__(self, store: MetadataStore, region: str, clock: Clock) -> None:
        self._store = store
        self._region = region
        self._clock = clock

    def create(self, owner_id: str, name: str, acl: BucketAcl, storage_class: StorageClass) -> Bucket:
        check_bucket_name(name)
        existing = self._store.get_bucket(name)
        if existing is not None:
            # Creating a bucket one already owns succeeds, as on OSS; anyone else's name is taken.
            if existing.owner_id == owner_id:
                return existing
            raise OssError("BucketAlreadyExists", BucketName=name)
        bucket = Bucket(
            name=name,
            owner_id=owner_id,
            region=self._region,
            created_at=self._clock.now(),
            acl=acl,
            storage_class=storage_class,
        )
        self._store.create_bucket(bucket)
        return bucket

    def find(self, name: str) -> Bucket | None:
        return self._store.get_bucket(name)

    def require(self, name: str) -> Bucket:
        bucket = self._store.get_bucket(name)
        if bucket is None:
            raise OssError("NoSuchBucket", BucketName=name)
        return bucket

    def delete(self, name: str) -> None:
        self.require(name)
        self._store.delete_bucket(name)

    def list(self, owner_id: str, prefix: str, marker: str, max_keys: int) -> BucketPage:
        rows = self._store.list_buckets(owner_id, prefix, marker, max_keys + 1)
        truncated = len(rows) > max_keys
        rows = rows[:max_keys]
        return BucketPage(rows, truncated, rows[-1].name if truncated and rows else "")

    def set_acl(self, name: str, acl: BucketAcl) -> None:
        self.require(name)
        self._store.set_bucket_acl(name, acl)

    def set_versioning(self, name: str, versioning: Versioning) -> None:
        bucket = self.require(name)
        if versioning is Versioning.OFF:
            raise OssError("InvalidArgument", "Versioning status must be Enabled or Suspended.")
        if bucket.versioning is Versioning.OFF and versioning is Versioning.SUSPENDED:
            # Suspending a never-versioned bucket leaves it as it was, as on OSS.
            return
        self._store.set_bucket_versioning(name, versioning)

    def stat(self, name: str) -> BucketStats:
        self.require(name)
        return self._store.bucket_stats(name)
