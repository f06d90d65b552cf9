"""Create many objects in a region's stores directly (no HTTP), for tests that need a big backfill.

The objects are committed through the metadata store like any write, with bytes
shared by hard links, so thousands take seconds; the bucket must have no
replication rule yet (nothing here queues replication work).
"""

from __future__ import annotations

import time
from pathlib import Path

from ferry.core.model import Versioning
from ferry.storage.blobs import DiskBlobStore
from ferry.storage.interfaces import NewVersion
from ferry.storage.sqlite_meta import SqliteMetadataStore


def fill_bucket(region_dir: Path, bucket: str, count: int, prefix: str = "old/", size: int = 1024) -> int:
    """Write ``count`` objects ``<prefix>00000``... of ``size`` bytes; returns the bytes written in all."""
    store = SqliteMetadataStore(region_dir / "meta.sqlite3", durable=False)
    blobs = DiskBlobStore(region_dir)
    record = store.get_bucket(bucket)
    assert record is not None, f"no bucket {bucket} in {region_dir}"
    writer = blobs.open_writer()
    writer.write(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    staged = writer.finish()
    try:
        for i in range(count):
            store.commit_version(
                NewVersion(
                    bucket=bucket,
                    key=f"{prefix}{i:05d}",
                    created_at=time.time(),
                    size=staged.size,
                    etag=staged.md5_hex.upper(),
                    crc64=str(staged.crc64),
                    blob_id=blobs.link_copy(staged.blob_id).blob_id,
                    owner_id=record.owner_id,
                ),
                Versioning.OFF,
            )
    finally:
        blobs.delete(staged.blob_id)
        store.close()
    return count * staged.size
