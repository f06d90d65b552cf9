"""The lifecycle sweep: apply each bucket's expiration rules to its versions.

One pass (:meth:`LifecycleSweeper.run_once`) walks, for every bucket with a
lifecycle configuration, the versions under the prefixes of its enabled rules,
asks :func:`ferry.core.lifecycle.decide` what to do with each, and does it
through :class:`ObjectService` — the same path as a client's DeleteObject, so
the change is committed with its replication work like any other delete.
:class:`ferry.service.periodic.PeriodicWorker` runs a pass every ``interval_seconds``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ferry.core import lifecycle as lc
from ferry.core.clock import Clock
from ferry.core.errors import OssError
from ferry.core.model import Bucket, ObjectVersion
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.objects import ObjectService
from ferry.storage.interfaces import MetadataStore

log = logging.getLogger("ferry.lifecycle")

BucketLookup = Callable[[str], Bucket | None]
"""Finds a bucket by name (the bucket service's ``find``)."""

PAGE = 1000
MAX_PAGE = 1_000_000
"""A single key with more versions than this is not swept in one pass."""


@dataclass
class SweepReport:
    buckets: int = 0
    versions_seen: int = 0
    expired: list[tuple[str, str, str]] = field(default_factory=list)
    """(bucket, key, action) of every change the pass made."""


def _scan_prefixes(rules: Sequence[lc.LifecycleRule]) -> list[str]:
    """The fewest prefixes that cover every rule the sweep acts on."""
    wanted = sorted(
        {r.prefix for r in rules if r.enabled and (r.expiration is not None or r.noncurrent_days is not None)}
    )
    kept: list[str] = []
    for prefix in wanted:
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return kept


class LifecycleSweeper:
    def __init__(
        self,
        store: MetadataStore,
        configs: BucketConfigService,
        find_bucket: BucketLookup,
        objects: ObjectService,
        clock: Clock,
        page_size: int = PAGE,
    ) -> None:
        self._store = store
        self._configs = configs
        self._find_bucket = find_bucket
        self._objects = objects
        self._clock = clock
        self._page = page_size

    def run_once(self) -> SweepReport:
        report = SweepReport()
        for name in self._configs.buckets_with(lc.LifecycleConfiguration):
            config = self._configs.get(name, lc.LifecycleConfiguration)
            bucket = self._find_bucket(name)
            if config is None or bucket is None:
                continue
            report.buckets += 1
            try:
                self._sweep_bucket(bucket, config.rules, report)
            except Exception:
                log.exception("lifecycle sweep of bucket %s failed; the next pass tries again", name)
        if report.expired:
            log.info("lifecycle sweep: %d changes in %d buckets", len(report.expired), report.buckets)
        return report

    def _sweep_bucket(self, bucket: Bucket, rules: Sequence[lc.LifecycleRule], report: SweepReport) -> None:
        for prefix in _scan_prefixes(rules):
            for group in self._keys(bucket.name, prefix):
                report.versions_seen += len(group)
                self._sweep_key(bucket, rules, group, report)

    def _keys(self, bucket: str, prefix: str) -> Iterator[list[ObjectVersion]]:
        """Every key under ``prefix`` with all its versions (newest first), a page at a time."""
        after, inclusive, limit = "", False, self._page
        while True:
            rows = self._store.list_versions(bucket, prefix, after, limit, inclusive=inclusive)
            groups: list[list[ObjectVersion]] = []
            for v in rows:
                if groups and groups[-1][0].key == v.key:
                    groups[-1].append(v)
                else:
                    groups.append([v])
            if len(rows) < limit:
                yield from groups
                return
            if len(groups) == 1:
                # One key fills the page: read it again with a larger page to see all its versions.
                if limit >= MAX_PAGE:
                    log.warning("key %r in %s has too many versions to sweep", groups[0][0].key, bucket)
                    after, inclusive, limit = groups[0][0].key, False, self._page
                    continue
                limit *= 2
                continue
            # The last key may continue on the next page: start there again.
            yield from groups[:-1]
            after, inclusive, limit = groups[-1][0].key, True, self._page

    def _sweep_key(
        self,
        bucket: Bucket,
        rules: Sequence[lc.LifecycleRule],
        group: list[ObjectVersion],
        report: SweepReport,
    ) -> None:
        now = self._clock.now()
        newer: ObjectVersion | None = None
        for v in group:
            candidate = lc.Candidate(
                key=v.key,
                size=v.size,
                tags=v.tags,
                created_at=v.created_at,
                is_delete_marker=v.is_delete_marker,
                is_latest=v.is_latest,
                noncurrent_since=newer.created_at if newer is not None else None,
                only_version=len(group) == 1,
            )
            newer = v
            action = lc.decide(rules, candidate, now)
            if action is None:
                continue
            try:
                if self._apply(bucket, v, action):
                    report.expired.append((bucket.name, v.key, action))
            except OssError as error:
                log.warning("lifecycle could not %s %s/%s: %s", action, bucket.name, v.key, error)

    def _apply(self, bucket: Bucket, version: ObjectVersion, action: str) -> bool:
        if action == lc.Action.EXPIRE_CURRENT:
            current = self._store.get_version(bucket.name, version.key, None)
            if current is None or current.seq != version.seq:
                return False  # written again since the scan read it
            self._objects.delete(bucket, version.key, None)
            return True
        # A delete marker or a noncurrent version: removed by its id, whatever happened since.
        self._objects.delete(bucket, version.key, version.version_id)
        return True
