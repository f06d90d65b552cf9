"""ListObjectVersions through oss2: every version and delete marker, paged with both markers."""

from __future__ import annotations

import oss2

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import make_pair, wait_until


def all_versions(
    bucket: oss2.Bucket, max_keys: int = 1000, **kwargs: str
) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is delete marker, is latest), following NextKeyMarker/NextVersionIdMarker."""
    out: list[tuple[str, str, bool, bool]] = []
    key_marker, version_marker = "", ""
    while True:
        page = bucket.list_object_versions(
            key_marker=key_marker, versionid_marker=version_marker, max_keys=max_keys, **kwargs
        )
        out += [(v.key, v.versionid, False, v.is_latest) for v in page.versions]
        out += [(m.key, m.versionid, True, m.is_latest) for m in page.delete_marker]
        if not page.is_truncated:
            return out
        key_marker, version_marker = page.next_key_marker, page.next_versionid_marker


def test_versions_and_markers_paged(cluster: FerryCluster) -> None:
    bucket = cluster.oss2_bucket(unique_bucket("vers"))
    bucket.create_bucket()
    bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    written: dict[str, list[str]] = {}
    for key in ("a", "b/1", "b/2", "c"):
        for n in range(3):
            written.setdefault(key, []).append(bucket.put_object(key, f"{key}{n}".encode()).versionid)
    marker = bucket.delete_object("c").versionid
    full = all_versions(bucket)
    assert len(full) == 13
    assert {v[1] for v in full} == {vid for ids in written.values() for vid in ids} | {marker}
    latest = {k: vid for k, vid, _, is_latest in full if is_latest}
    assert latest == {
        "a": written["a"][-1],
        "b/1": written["b/1"][-1],
        "b/2": written["b/2"][-1],
        "c": marker,
    }
    for page_size in (1, 2, 5):
        assert sorted(all_versions(bucket, max_keys=page_size)) == sorted(full)
    grouped = bucket.list_object_versions(delimiter="/")
    assert grouped.common_prefix == ["b/"]
    assert {v.key for v in grouped.versions} == {"a", "c"}


def test_replicated_versions_match_the_source(cluster: FerryCluster) -> None:
    pair = make_pair(cluster, versioned=True)
    for n in range(3):
        pair.src.put_object("v", f"{n}".encode())
    pair.src.delete_object("v")
    pair.src.put_object("w", b"w")
    source = sorted(all_versions(pair.src))
    wait_until(lambda: sorted(all_versions(pair.dst)) == source, what="the same versions at the destination")
