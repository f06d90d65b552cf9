"""A 1 GiB object up and down through oss2 streaming, with the region's memory watched.

The test process never holds the object: the upload body is generated block
by block, the download is read and hashed in 1 MiB pieces.  A sampler thread
reads the RSS of the region process (``ferry serve --region oss-cn-hangzhou``,
a child of ``ferry up``) every 50 ms; the peak growth over the idle baseline
must stay below :data:`RSS_BOUND`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator

import oss2
import psutil
import pytest

from tests.integration.harness import FerryCluster, unique_bucket

GIB = 1024**3
MIB = 1024**2
SIZE = GIB
RSS_BOUND = 150 * MIB
SAMPLE_EVERY = 0.05


class PatternBody:
    """``SIZE`` bytes made on demand: one random MiB, each copy stamped with its index.

    Has ``__len__`` so oss2 sends a Content-Length.  oss2's CRC adapter hashes
    what it hands out (CRC-64), so the upload needs no second digest here.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0
        self._base = os.urandom(MIB)
        self._block_index = -1
        self._block = b""

    def __len__(self) -> int:
        return self.size

    def block(self, index: int) -> bytes:
        return index.to_bytes(8, "big") + self._base[8:]

    def read(self, amt: int | None = None) -> bytes:
        if self.pos >= self.size:
            return b""
        index, offset = divmod(self.pos, MIB)
        if index != self._block_index:
            self._block_index, self._block = index, self.block(index)
        want = MIB - offset if amt is None or amt < 0 else min(amt, MIB - offset)
        want = min(want, self.size - self.pos)
        chunk = self._block[offset : offset + want]
        self.pos += len(chunk)
        return chunk


class RssSampler:
    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.baseline = process.memory_info().rss
        self.peak = self.baseline
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            rss = self.process.memory_info().rss
            self.peak = max(self.peak, rss)
            self.samples += 1

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def region_process(cluster: FerryCluster, region: str = "oss-cn-hangzhou") -> psutil.Process:
    assert cluster.process is not None
    for child in psutil.Process(cluster.process.pid).children(recursive=True):
        cmd = child.cmdline()
        if "serve" in cmd and "--region" in cmd and cmd[cmd.index("--region") + 1] == region:
            return child
    raise AssertionError(f"no `ferry serve --region {region}` child of `ferry up`")


@pytest.fixture
def bucket(cluster: FerryCluster) -> Iterator[oss2.Bucket]:
    b = cluster.oss2_bucket(unique_bucket("large"))
    b.create_bucket()
    yield b
    for obj in oss2.ObjectIteratorV2(b):
        b.delete_object(obj.key)
    b.delete_bucket()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_one_gib_streams_through_without_holding_it(
    cluster: FerryCluster, bucket: oss2.Bucket, record_property: Callable[[str, object], None]
) -> None:
    assert bucket.enable_crc  # oss2 computes CRC-64 on both legs and compares it with the server's
    server = region_process(cluster)
    body = PatternBody(SIZE)

    with RssSampler(server) as upload_rss:
        put = bucket.put_object("big/one-gib.bin", body)  # oss2 raises if the CRC-64 differs
    assert body.pos == SIZE
    assert put.crc is not None  # and oss2 compared it with the CRC-64 of what it sent
    assert len(put.etag) == 32 and put.etag == put.etag.upper()

    head = bucket.head_object("big/one-gib.bin")
    assert head.content_length == SIZE

    with RssSampler(server) as download_rss:
        result = bucket.get_object("big/one-gib.bin")
        md5 = hashlib.md5()
        received = 0
        while chunk := result.read(MIB):
            md5.update(chunk)
            received += len(chunk)
    assert received == SIZE
    assert md5.hexdigest().upper() == put.etag == head.etag  # ETag = MD5 of the bytes
    assert result.server_crc == put.crc
    assert result.client_crc == result.server_crc  # the same bytes came back
    # Spot-check content at block boundaries (a shifted or reordered stream fails here).
    for index in (0, 1, SIZE // MIB - 1):
        piece = bucket.get_object("big/one-gib.bin", byte_range=(index * MIB, index * MIB + 15)).read()
        assert piece == body.block(index)[:16]

    download_growth = download_rss.peak - upload_rss.baseline
    print(
        f"\n1 GiB through oss2: region RSS baseline {upload_rss.baseline / MIB:.1f} MiB; "
        f"peak growth upload {upload_rss.growth / MIB:.1f} MiB ({upload_rss.samples} samples), "
        f"download {download_growth / MIB:.1f} MiB ({download_rss.samples} samples); "
        f"bound {RSS_BOUND / MIB:.0f} MiB"
    )
    record_property("rss_growth_upload_mib", round(upload_rss.growth / MIB, 1))
    record_property("rss_growth_download_mib", round(download_growth / MIB, 1))
    assert upload_rss.samples > 0 and download_rss.samples > 0
    assert upload_rss.growth < RSS_BOUND
    assert download_growth < RSS_BOUND
