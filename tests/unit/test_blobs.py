"""The disk blob store's in-kernel copies: concatenation and a writer that starts from a blob."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from ferry.storage.blobs import DiskBlobStore


def put(store: DiskBlobStore, data: bytes) -> str:
    writer = store.open_writer()
    writer.write(data)
    return writer.finish().blob_id


def test_concat_lays_blobs_end_to_end_in_a_new_blob(tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path)
    pieces = [os.urandom(3 * 1024 * 1024 + 5), b"", b"tail"]
    ids = [put(store, p) for p in pieces]
    whole = store.concat(ids)
    assert whole not in ids
    assert store.path(whole).read_bytes() == b"".join(pieces)
    assert all(store.path(i).exists() for i in ids)  # the sources stay until their owner frees them
    assert list(store.tmp_dir.iterdir()) == []


def test_copy_blob_then_write_digests_only_the_written_bytes(tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path)
    base = put(store, b"hello ")
    writer = store.open_writer()
    assert writer.copy_blob(base) == 6
    writer.write(b"world")
    staged = writer.finish()
    assert staged.size == 5
    assert store.path(staged.blob_id).read_bytes() == b"hello world"


def test_copy_falls_back_to_reads_where_the_kernel_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    store = DiskBlobStore(tmp_path)
    data = os.urandom(2 * 1024 * 1024 + 1)
    ids = [put(store, data), put(store, b"!")]
    assert store.path(store.concat(ids)).read_bytes() == data + b"!"


def test_a_failed_concat_leaves_nothing_behind(tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path)
    with pytest.raises(FileNotFoundError):
        store.concat([put(store, b"x"), "no-such-blob"])
    assert list(store.tmp_dir.iterdir()) == []
