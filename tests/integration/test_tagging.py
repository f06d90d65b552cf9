"""Object tagging: Put/Get/DeleteObjectTagging, limits, versions, and replication of tag changes."""

from __future__ import annotations

import oss2
import pytest
from oss2.models import Tagging, TaggingRule

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import exists, make_pair, wait_until


def tagging(**tags: str) -> Tagging:
    rule = TaggingRule()
    for key, value in tags.items():
        rule.add(key, value)
    return Tagging(rule)


def tags_of(bucket: oss2.Bucket, key: str, **params: str) -> dict[str, str]:
    return dict(bucket.get_object_tagging(key, params=params or None).tag_set.tagging_rule)


def test_put_get_delete_tagging(cluster: FerryCluster) -> None:
    bucket = cluster.oss2_bucket(unique_bucket("tag"))
    bucket.create_bucket()
    bucket.put_object("k", b"x", headers={"x-oss-tagging": "a=1"})
    assert tags_of(bucket, "k") == {"a": "1"}
    bucket.put_object_tagging("k", tagging(team="blue", tier="gold"))
    assert tags_of(bucket, "k") == {"team": "blue", "tier": "gold"}
    assert bucket.head_object("k").headers["x-oss-tagging-count"] == "2"
    bucket.delete_object_tagging("k")
    assert tags_of(bucket, "k") == {}
    with pytest.raises(oss2.exceptions.OssError) as error:
        bucket.put_object_tagging("k", tagging(**{f"k{i}": "v" for i in range(11)}))
    assert (error.value.status, error.value.code) == (400, "InvalidArgument")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object_tagging("missing")


def test_tagging_a_specific_version(cluster: FerryCluster) -> None:
    bucket = cluster.oss2_bucket(unique_bucket("tagv"))
    bucket.create_bucket()
    bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    old = bucket.put_object("k", b"1").versionid
    bucket.put_object("k", b"2")
    bucket.put_object_tagging("k", tagging(old="yes"), params={"versionId": old})
    assert tags_of(bucket, "k", versionId=old) == {"old": "yes"}
    assert tags_of(bucket, "k") == {}


def test_tag_changes_are_replicated(cluster: FerryCluster) -> None:
    pair = make_pair(cluster)
    pair.src.put_object("t", b"tagged")
    wait_until(lambda: exists(pair.dst, "t"))
    pair.src.put_object_tagging("t", tagging(color="red"))
    wait_until(lambda: tags_of(pair.dst, "t") == {"color": "red"}, what="the tag change at the destination")
