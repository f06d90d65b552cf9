"""Lifecycle rules: what PutBucketLifecycle accepts, and what the sweep does with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ferry.core import lifecycle as lc
from ferry.core.clock import ManualClock
from ferry.core.errors import OssError
from ferry.core.model import Bucket, BucketAcl, StorageClass, Versioning
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.buckets import BucketService
from ferry.service.lifecycle_sweep import LifecycleSweeper
from ferry.service.objects import ObjectAttrs, ObjectService
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.sqlite_configs import SqliteConfigStore
from ferry.storage.sqlite_meta import SqliteMetadataStore

DAY = lc.DAY


def rule(rule_id: str = "r", prefix: str = "", **kw: object) -> lc.LifecycleRule:
    return lc.LifecycleRule(id=rule_id, prefix=prefix, status=kw.pop("status", "Enabled"), **kw)  # type: ignore[arg-type]


def config(*rules: lc.LifecycleRule) -> lc.LifecycleConfiguration:
    return lc.LifecycleConfiguration(tuple(rules))


# --- validation ------------------------------------------------------------------------


def test_a_valid_rule_passes_and_an_empty_id_gets_one() -> None:
    checked = lc.validate(config(rule("", "logs/", expiration=lc.Expiration(days=3))))
    assert checked.rules[0].id


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (
            rule(expiration=lc.Expiration(days=3), transitions=(lc.Transition("IA", days=4),)),
            "InvalidArgument",
        ),
        (
            rule(
                expiration=lc.Expiration(days=6),
                transitions=(lc.Transition("IA", days=5), lc.Transition("Archive", days=2)),
            ),
            "InvalidArgument",
        ),
        (
            rule(expiration=lc.Expiration(days=6), transitions=(lc.Transition("Standard", days=5),)),
            "InvalidArgument",
        ),
        (
            rule(
                expiration=lc.Expiration(created_before_date="2016-12-25"),
                transitions=(lc.Transition("IA", days=356),),
            ),
            "InvalidRequest",
        ),
        (
            rule(
                noncurrent_days=30,
                noncurrent_transitions=(
                    lc.NoncurrentTransition(20, "IA"),
                    lc.NoncurrentTransition(12, "Archive"),
                ),
            ),
            "InvalidArgument",
        ),
        (rule(), "InvalidArgument"),
        (rule(expiration=lc.Expiration(days=1), tags={"%&": "x"}), "InvalidArgument"),
        (rule(expiration=lc.Expiration(days=1), status="On"), "MalformedXML"),
        (rule(expiration=lc.Expiration(days=1, created_before_date="2016-12-25")), "MalformedXML"),
    ],
)
def test_invalid_rules_are_refused(bad: lc.LifecycleRule, code: str) -> None:
    with pytest.raises(OssError) as caught:
        lc.validate(config(bad))
    assert caught.value.code == code


def test_overlapping_prefixes_need_the_overlap_header() -> None:
    both = config(
        rule("a", "p/", expiration=lc.Expiration(days=1)), rule("b", "p/2", expiration=lc.Expiration(days=2))
    )
    with pytest.raises(OssError) as caught:
        lc.validate(both)
    assert caught.value.message == "Overlap for same action type Expiration"
    assert len(lc.validate(both, allow_overlap=True).rules) == 2


def test_long_tags_are_kept_but_odd_characters_refused() -> None:
    lc.validate(config(rule(expiration=lc.Expiration(days=1), tags={"a" * 129: "b" * 257})))
    with pytest.raises(OssError):
        lc.validate(config(rule(expiration=lc.Expiration(days=1), tags={"k": ")%"})))


def test_dates_must_be_midnight_utc() -> None:
    assert lc.parse_date("2016-12-25T00:00:00.000Z") == "2016-12-25"
    with pytest.raises(OssError):
        lc.parse_date("2016-12-25T08:00:00.000Z")


# --- which versions a rule matches --------------------------------------------------------


def candidate(key: str = "logs/a", **kw: object) -> lc.Candidate:
    values: dict[str, object] = {
        "key": key,
        "size": 10,
        "tags": {},
        "created_at": 0.0,
        "is_delete_marker": False,
        "is_latest": True,
        "noncurrent_since": None,
        "only_version": True,
    }
    values.update(kw)
    return lc.Candidate(**values)  # type: ignore[arg-type]


def test_filters_narrow_what_a_rule_applies_to() -> None:
    r = rule(
        prefix="logs/",
        expiration=lc.Expiration(days=1),
        tags={"t": "1"},
        filter=lc.Filter(
            object_size_greater_than=5, object_size_less_than=100, nots=(lc.FilterNot("logs/keep"),)
        ),
    )
    assert lc.applies(r, candidate(tags={"t": "1"}))
    assert not lc.applies(r, candidate(tags={"t": "2"}))
    assert not lc.applies(r, candidate(tags={"t": "1"}, size=5))
    assert not lc.applies(r, candidate(tags={"t": "1"}, size=100))
    assert not lc.applies(r, candidate("logs/keep/x", tags={"t": "1"}))
    assert not lc.applies(r, candidate("other/x", tags={"t": "1"}))
    assert not lc.applies(
        rule(prefix="logs/", status="Disabled", expiration=lc.Expiration(days=1)), candidate()
    )


def test_decide_by_days_and_dates() -> None:
    by_days = [rule(expiration=lc.Expiration(days=2))]
    assert lc.decide(by_days, candidate(), 2 * DAY - 1) is None
    assert lc.decide(by_days, candidate(), 2 * DAY) == lc.Action.EXPIRE_CURRENT
    before = [rule(expiration=lc.Expiration(created_before_date="2020-01-02"))]
    assert (
        lc.decide(before, candidate(created_at=lc.date_timestamp("2020-01-01")), 0)
        == lc.Action.EXPIRE_CURRENT
    )
    assert lc.decide(before, candidate(created_at=lc.date_timestamp("2020-01-02")), 1e10) is None


# --- the sweep, against a real store and a fake clock ------------------------------------------


@dataclass
class Region:
    clock: ManualClock
    store: SqliteMetadataStore
    objects: ObjectService
    buckets: BucketService
    configs: BucketConfigService
    blobs: DiskBlobStore

    def sweeper(self, page_size: int = 1000) -> LifecycleSweeper:
        return LifecycleSweeper(
            self.store, self.configs, self.buckets.find, self.objects, self.clock, page_size
        )

    def bucket(self, versioning: Versioning = Versioning.OFF) -> Bucket:
        self.buckets.create("owner", "bkt", BucketAcl.PRIVATE, StorageClass.STANDARD)
        if versioning is not Versioning.OFF:
            self.buckets.set_versioning("bkt", versioning)
        return self.buckets.require("bkt")

    def put(self, key: str, body: bytes = b"data", tags: dict[str, str] | None = None) -> None:
        writer = self.blobs.open_writer()
        writer.write(body)
        bucket = self.buckets.require("bkt")
        self.objects.put(bucket, key, writer.finish(), ObjectAttrs(tags=tags or {}), owner_id="owner")

    def keys(self) -> list[tuple[str, bool]]:
        return [(v.key, v.is_delete_marker) for v in self.store.list_versions("bkt", "", "", 1000)]


@pytest.fixture
def region(tmp_path: Path) -> Iterator[Region]:
    clock = ManualClock()
    store = SqliteMetadataStore(tmp_path / "meta.sqlite3")
    blobs = DiskBlobStore(tmp_path)
    yield Region(
        clock=clock,
        store=store,
        objects=ObjectService(store, blobs, clock),
        buckets=BucketService(store, "oss-cn-hangzhou", clock),
        configs=BucketConfigService(SqliteConfigStore(store.db), clock),
        blobs=blobs,
    )
    store.close()


def test_sweep_deletes_expired_objects_of_an_unversioned_bucket(region: Region) -> None:
    region.bucket()
    region.configs.put("bkt", config(rule(prefix="logs/", expiration=lc.Expiration(days=1))))
    region.put("logs/a")
    region.put("keep/b")
    region.clock.advance(DAY / 2)
    assert region.sweeper().run_once().expired == []
    region.clock.advance(DAY)
    report = region.sweeper().run_once()
    assert report.expired == [("bkt", "logs/a", lc.Action.EXPIRE_CURRENT)]
    assert region.keys() == [("keep/b", False)]


def test_sweep_in_a_versioned_bucket_hides_then_removes(region: Region) -> None:
    region.bucket(Versioning.ENABLED)
    region.configs.put(
        "bkt",
        config(
            rule("current", expiration=lc.Expiration(days=1)),
            rule("noncurrent", noncurrent_days=2),
            rule("markers", expiration=lc.Expiration(expired_object_delete_marker=True)),
        ),
    )
    # Overlapping rules need the overlap header on PutBucketLifecycle; the sweep takes them as they are.
    region.put("k")
    region.clock.advance(DAY)
    region.sweeper().run_once()
    assert region.keys() == [("k", True), ("k", False)]  # a delete marker hides the version
    region.clock.advance(DAY)
    region.sweeper().run_once()
    assert region.keys() == [("k", True), ("k", False)]  # noncurrent for one day only
    region.clock.advance(DAY)
    region.sweeper().run_once()
    assert region.keys() == [("k", True)]  # the noncurrent version went
    region.sweeper().run_once()
    assert region.keys() == []  # and then the marker that was the key's only version


def test_sweep_honours_tags_and_pages_through_many_versions(region: Region) -> None:
    region.bucket(Versioning.ENABLED)
    region.configs.put("bkt", config(rule(noncurrent_days=1, tags={"tmp": "yes"})))
    for _ in range(5):
        region.put("many", tags={"tmp": "yes"})
    region.put("other", tags={"tmp": "no"})
    region.put("other", tags={"tmp": "no"})
    region.clock.advance(2 * DAY)
    report = region.sweeper(page_size=2).run_once()
    assert len(report.expired) == 4
    assert region.keys() == [("many", False), ("other", False), ("other", False)]


def test_a_disabled_rule_or_a_deleted_configuration_does_nothing(region: Region) -> None:
    region.bucket()
    region.configs.put("bkt", config(rule(status="Disabled", expiration=lc.Expiration(days=1))))
    region.put("a")
    region.clock.advance(10 * DAY)
    assert region.sweeper().run_once().expired == []
    region.configs.delete("bkt", lc.LifecycleConfiguration)
    assert region.sweeper().run_once().buckets == 0
    assert region.keys() == [("a", False)]
