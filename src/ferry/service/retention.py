"""Enforcing a bucket's retention (WORM) policy on deletes and overwrites.

Deletes are refused inside the transaction that would commit them (a change
hook), so every path — DeleteObject, DeleteMultipleObjects, lifecycle — is
covered; overwrites of an unversioned (or suspended) key are checked before
the write, since the replaced version leaves no change of its own.
"""

from __future__ import annotations

import sqlite3

from ferry.core import worm
from ferry.core.clock import Clock
from ferry.core.errors import OssError
from ferry.core.model import NULL_VERSION, Bucket, ChangeKind, ObjectChange, Versioning
from ferry.service.bucket_configs import BucketConfigService
from ferry.storage.interfaces import MetadataStore


def _refused(key: str) -> OssError:
    return OssError("FileImmutable", "The object is protected by the bucket's retention policy.", Key=key)


class RetentionGuard:
    def __init__(self, configs: BucketConfigService, store: MetadataStore, clock: Clock) -> None:
        self._configs = configs
        self._store = store
        self._clock = clock

    def on_change(self, conn: sqlite3.Connection, change: ObjectChange) -> bool:
        """A change hook: refuse deleting a protected version (the transaction rolls back)."""
        if change.replica or change.kind not in (ChangeKind.DELETE, ChangeKind.DELETE_VERSION):
            return False
        gone = change.version
        if gone.is_delete_marker:
            return False
        policy = self._configs.get(gone.bucket, worm.WormConfiguration)
        if worm.protects(policy, gone.created_at, self._clock.now()):
            raise _refused(gone.key)
        return False

    def check_overwrite(self, bucket: Bucket, key: str) -> None:
        """Refuse a write that would replace a protected version of ``key`` (blocking)."""
        if bucket.versioning is Versioning.ENABLED:
            return  # a new version; the old one stays
        policy = self._configs.get(bucket.name, worm.WormConfiguration)
        now = self._clock.now()
        if worm.in_force(policy, now) is None:
            return
        # Unversioned and suspended writes replace the key's null version (only).
        current = self._store.get_version(bucket.name, key, NULL_VERSION)
        if (
            current is not None
            and not current.is_delete_marker
            and worm.protects(policy, current.created_at, now)
        ):
            raise _refused(key)
