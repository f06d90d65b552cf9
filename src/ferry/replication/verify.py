"""Compare a rule's source and destination buckets: keys, version IDs, ETags, sizes, metadata.

Only what the rule replicates is expected at the destination (its prefixes, its
Action, SSE-KMS selection, historical or not).  A difference whose key still has
work in the rule's queue is "in flight", not a difference: the engine will
deliver it.  Candidates are read again before they are reported, so a change
that lands while the scan runs is not reported either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ferry.core.model import NULL_VERSION, ChangeKind, ObjectVersion, ReplicationState
from ferry.core.replication_decide import replicates_encryption
from ferry.core.replication_rules import ReplicationRule
from ferry.core.replication_task import Repair
from ferry.storage.interfaces import MetadataStore

PAGE = 1000


@dataclass(frozen=True)
class Difference:
    key: str
    version_id: str
    kind: str
    """missing, delete_marker, etag, size, metadata, or extra (at the destination only)."""
    detail: str
    repair: Repair | None
    """What fixes it; None when it cannot be fixed by replicating again (see ``detail``)."""


@dataclass
class VerifyResult:
    started_at: float
    compared: int = 0
    """Source versions the rule replicates that were compared."""
    differences: list[Difference] = field(default_factory=list)
    in_flight: int = 0
    """Keys that differ but still have replication work queued."""
    kept_at_destination: int = 0
    """Versions only at the destination that the rule leaves alone (not replicas, or Action PUT)."""

    @property
    def consistent(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class RuleScope:
    source_bucket: str
    dest_bucket: str
    rule: ReplicationRule
    start_seq: int
    """The source's newest version when the rule was created (before it: historical)."""


def _metadata(v: ObjectVersion) -> tuple[object, ...]:
    return (
        sorted(v.content_headers.items()),
        sorted(v.user_meta.items()),
        v.acl.value,
        sorted(v.tags.items()),
        v.storage_class.value,
    )


def _key_groups(store: MetadataStore, bucket: str, prefix: str) -> Iterator[tuple[str, list[ObjectVersion]]]:
    """Every key under ``prefix`` with all its versions, in key order."""
    after, inclusive, limit = prefix, True, PAGE
    while True:
        page = store.list_versions(bucket, prefix, after, limit, inclusive=inclusive)
        if not page:
            return
        keys = list(dict.fromkeys(v.key for v in page))
        if len(page) == limit and len(keys) == 1:
            limit *= 2  # one key with more versions than a page: read it whole
            continue
        complete = keys if len(page) < limit else keys[:-1]  # the last key may go on
        for key in complete:
            yield key, [v for v in page if v.key == key]
        if len(page) < limit:
            return
        after, inclusive, limit = keys[-1], True, PAGE


class Verifier:
    def __init__(
        self,
        source: MetadataStore,
        dest: MetadataStore,
        scope: RuleScope,
        pending: Callable[[str], int],
        started_at: float,
    ) -> None:
        self._source = source
        self._dest = dest
        self._scope = scope
        self._pending = pending
        self._result = VerifyResult(started_at=started_at)

    def run(self, on_progress: Callable[[int], None] | None = None) -> VerifyResult:
        """Scan everything under the rule's prefixes; ``on_progress(n)`` after n source versions."""
        scanned = 0
        candidates: list[str] = []
        for prefix in self._scope.rule.prefixes or ("",):
            src_groups = _key_groups(self._source, self._scope.source_bucket, prefix)
            dst_groups = _key_groups(self._dest, self._scope.dest_bucket, prefix)
            for key, src, dst in _merge(src_groups, dst_groups):
                scanned += len(src)
                self._result.compared += len(self._expected(src))
                if self._compare(key, src, dst, count_kept=True):
                    candidates.append(key)
                if on_progress is not None:
                    on_progress(scanned)
        for key in candidates:
            self._confirm(key)
        return self._result

    def _confirm(self, key: str) -> None:
        """Read the key again on both sides; report it unless its work is still queued."""
        if self._pending(key):
            self._result.in_flight += 1
            return
        src = self._versions_of(self._source, self._scope.source_bucket, key)
        dst = self._versions_of(self._dest, self._scope.dest_bucket, key)
        self._result.differences += self._compare(key, src, dst, count_kept=False)

    @staticmethod
    def _versions_of(store: MetadataStore, bucket: str, key: str) -> list[ObjectVersion]:
        versions = store.list_versions(bucket, key, key, PAGE * 100, inclusive=True)
        return [v for v in versions if v.key == key]

    def _expected(self, src: list[ObjectVersion]) -> list[ObjectVersion]:
        rule, scope = self._scope.rule, self._scope
        expected = []
        for v in src:
            if v.replication is ReplicationState.REPLICA or v.created_at > self._result.started_at:
                continue
            if not rule.historical_enabled and v.seq <= scope.start_seq:
                continue
            if v.is_delete_marker and not rule.replicates_deletes:
                continue
            if not v.is_delete_marker and not replicates_encryption(rule, v.encryption):
                continue
            expected.append(v)
        return expected

    def _compare(
        self, key: str, src: list[ObjectVersion], dst: list[ObjectVersion], *, count_kept: bool
    ) -> list[Difference]:
        found: list[Difference] = []
        at_dest = {v.version_id: v for v in dst}
        for v in self._expected(src):
            found += _differences(v, at_dest.get(v.version_id))
        source_ids = {v.version_id for v in src}
        for extra in (v for v in dst if v.version_id not in source_ids):
            if extra.replication is ReplicationState.REPLICA and self._scope.rule.replicates_deletes:
                kind = ChangeKind.DELETE if extra.version_id == NULL_VERSION else ChangeKind.DELETE_VERSION
                found.append(
                    Difference(
                        key,
                        extra.version_id,
                        "extra",
                        "a replica the source no longer has",
                        Repair(key, extra.version_id, kind),
                    )
                )
            elif count_kept:
                self._result.kept_at_destination += 1
        return found


def _differences(src: ObjectVersion, dst: ObjectVersion | None) -> list[Difference]:
    key, vid = src.key, src.version_id
    resend = Repair(key, vid, ChangeKind.DELETE_MARKER if src.is_delete_marker else ChangeKind.PUT, src.seq)
    if dst is None:
        kind = "delete_marker" if src.is_delete_marker else "missing"
        return [Difference(key, vid, kind, "not at the destination", resend)]
    if src.is_delete_marker != dst.is_delete_marker:
        what = "a delete marker" if src.is_delete_marker else "an object"
        return [Difference(key, vid, "delete_marker", f"the source has {what} there", None)]
    if src.is_delete_marker:
        return []
    # A version's bytes are replaced at the destination only for unversioned objects (one
    # 'null' version per key); a versioned replica keeps its bytes once written.
    bytes_repair = resend if vid == NULL_VERSION else None
    if src.etag != dst.etag:
        return [Difference(key, vid, "etag", f"source {src.etag}, destination {dst.etag}", bytes_repair)]
    if src.size != dst.size:
        return [Difference(key, vid, "size", f"source {src.size}, destination {dst.size}", bytes_repair)]
    if _metadata(src) != _metadata(dst):
        return [Difference(key, vid, "metadata", "headers, user metadata, ACL, tags or class", resend)]
    return []


def _merge(
    src: Iterator[tuple[str, list[ObjectVersion]]], dst: Iterator[tuple[str, list[ObjectVersion]]]
) -> Iterator[tuple[str, list[ObjectVersion], list[ObjectVersion]]]:
    """Both sides' key groups side by side, in key order (an empty list where a side has none)."""
    a, b = next(src, None), next(dst, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a[1], []
            a = next(src, None)
        elif a is None or b[0] < a[0]:
            yield b[0], [], b[1]
            b = next(dst, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(src, None), next(dst, None)
