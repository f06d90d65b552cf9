"""GetObject with Accept-Encoding: gzip, as OSS answers it (chunked, decompressed by the SDK)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator

import oss2
import pytest
import requests

from tests.integration.harness import FerryCluster, unique_bucket


@pytest.fixture
def bucket(cluster: FerryCluster) -> Iterator[oss2.Bucket]:
    b = cluster.oss2_bucket(unique_bucket("gz"), v4=True)
    b.create_bucket()
    yield b
    for o in oss2.ObjectIteratorV2(b):
        b.delete_object(o.key)
    b.delete_bucket()


def test_text_objects_come_gzip_compressed_and_chunked(bucket: oss2.Bucket) -> None:
    content = os.urandom(300 * 1024).hex().encode()
    bucket.put_object("page.txt", content, headers={"x-oss-server-side-encryption": "AES256"})
    got = bucket.get_object("page.txt", headers={"Accept-Encoding": "gzip"})
    assert got.read() == content  # oss2 checks its CRC-64 of the decoded bytes as well
    assert got.headers["Content-Encoding"] == "gzip"
    assert got.headers["Transfer-Encoding"] == "chunked"
    assert got.content_length is None
    raw = requests.get(
        bucket.sign_url("GET", "page.txt", 60), headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10
    )
    on_the_wire = raw.raw.read(decode_content=False)
    assert len(on_the_wire) < len(content)
    assert gzip.decompress(on_the_wire) == content


def test_binary_types_ranges_and_small_objects_are_sent_as_they_are(bucket: oss2.Bucket) -> None:
    bucket.put_object("blob.bin", b"x" * 4096)
    bucket.put_object("small.txt", b"tiny")
    bucket.put_object("big.txt", b"y" * 4096)
    for key, byte_range in (("blob.bin", None), ("small.txt", None), ("big.txt", (0, 99))):
        got = bucket.get_object(key, byte_range=byte_range, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in got.headers
        assert got.content_length is not None
