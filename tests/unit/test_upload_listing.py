"""ListMultipartUploads paging over a real SQLite store: prefix, delimiter, both markers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ferry.core.model import Bucket
from ferry.core.multipart import MultipartUpload
from ferry.service.upload_listing import UploadPage, list_uploads
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_multipart import SqliteMultipartStore

BKT = "bkt"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteMultipartStore]:
    meta = SqliteMetadataStore(tmp_path / "meta.db", durable=False)
    meta.create_bucket(Bucket(name=BKT, owner_id="o", region="oss-cn-hangzhou", created_at=0.0))
    yield SqliteMultipartStore(meta.db)
    meta.close()


def add(store: SqliteMultipartStore, key: str, upload_id: str) -> None:
    """Upload ids are unique in a region: the key joins the id (which still orders a key's uploads)."""
    store.create_upload(MultipartUpload(upload_id=uid(key, upload_id), bucket=BKT, key=key, initiated_at=0.0))


def uid(key: str, n: str) -> str:
    return f"{n}-{key}"


def listing(store: SqliteMultipartStore, **kw: object) -> UploadPage:
    args: dict[str, object] = {
        "prefix": "",
        "delimiter": "",
        "key_marker": "",
        "upload_id_marker": "",
        "max_uploads": 1000,
    }
    args.update(kw)
    return list_uploads(store, BKT, **args)  # type: ignore[arg-type]


def pairs(page: UploadPage) -> list[tuple[str, str]]:
    return [(u.key, u.upload_id.split("-", 1)[0]) for u in page.uploads]


def test_every_upload_of_a_key_in_id_order(store: SqliteMultipartStore) -> None:
    for n in ("0003", "0001", "0002"):
        add(store, "k", n)
    add(store, "j", "0009")
    page = listing(store)
    assert pairs(page) == [("j", "0009"), ("k", "0001"), ("k", "0002"), ("k", "0003")]
    assert not page.truncated
    assert (page.next_key_marker, page.next_upload_id_marker) == ("", "")


def test_paging_with_both_markers_visits_each_upload_once(store: SqliteMultipartStore) -> None:
    expected = []
    for key in ("a", "b", "c"):
        for n in ("01", "02", "03"):
            add(store, key, n)
            expected.append((key, n))
    seen: list[tuple[str, str]] = []
    key_marker, id_marker = "", ""
    for _ in range(20):
        page = listing(store, key_marker=key_marker, upload_id_marker=id_marker, max_uploads=2)
        assert not page.truncated or page.next_upload_id_marker == uid(*pairs(page)[-1])
        seen += pairs(page)
        if not page.truncated:
            break
        key_marker, id_marker = page.next_key_marker, page.next_upload_id_marker
    assert seen == expected


def test_a_key_marker_alone_skips_every_upload_of_that_key(store: SqliteMultipartStore) -> None:
    for key in ("a", "b", "c"):
        add(store, key, "01")
        add(store, key, "02")
    assert pairs(listing(store, key_marker="b")) == [("c", "01"), ("c", "02")]
    # An upload-id marker without a key marker is ignored, as on OSS.
    assert len(listing(store, upload_id_marker=uid("a", "01")).uploads) == 6
    # With both, the listing resumes inside the key.
    assert pairs(listing(store, key_marker="b", upload_id_marker=uid("b", "01")))[0] == ("b", "02")


def test_delimiter_groups_common_prefixes_that_count_as_one_entry(store: SqliteMultipartStore) -> None:
    add(store, "p/a", "01")
    for key in ("p/d1/x", "p/d1/y", "p/d2/z"):
        add(store, key, "01")
        add(store, key, "02")
    add(store, "q", "01")
    page = listing(store, prefix="p/", delimiter="/")
    assert pairs(page) == [("p/a", "01")]
    assert page.common_prefixes == ["p/d1/", "p/d2/"]
    first = listing(store, prefix="p/", delimiter="/", max_uploads=2)
    assert (pairs(first), first.common_prefixes, first.truncated) == ([("p/a", "01")], ["p/d1/"], True)
    assert (first.next_key_marker, first.next_upload_id_marker) == ("p/d1/", "")
    rest = listing(store, prefix="p/", delimiter="/", key_marker="p/d1/")
    assert (pairs(rest), rest.common_prefixes, rest.truncated) == ([], ["p/d2/"], False)
