"""Object bytes: files on the local disk, or rows in the metadata database for small ones.

A disk blob is written to a temp file, fsynced and renamed into place before any
metadata refers to it, so a crash can leave an unreferenced blob (swept later)
but never metadata pointing at missing bytes.  A small body may instead be kept
in memory and committed inline with its version (:mod:`ferry.storage.inline_blobs`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from ferry.core.checksums import Digests
from ferry.core.model import StagedBlob
from ferry.storage.inline_blobs import InlineBlobReader, is_inline, new_inline_id

READ_CHUNK = 1024 * 1024


Transform = Callable[[bytes | memoryview], bytes]
"""Applied to the bytes after they are digested and before they reach the disk (encryption)."""


class BlobWriter(Protocol):
    is_inline: bool
    """True when :meth:`finish` only hands over bytes held in memory (no I/O, no fsync)."""

    def write(self, data: bytes | memoryview) -> None: ...
    def copy_blob(self, blob_id: str) -> int:
        """Append a committed blob's stored bytes as they are (neither digested nor transformed);
        returns how many.  The StagedBlob of :meth:`finish` describes the written bytes only."""
        ...

    def finish(self) -> StagedBlob: ...
    def abort(self) -> None: ...

    @property
    def digests(self) -> Digests: ...


@dataclass(frozen=True)
class BlobRef:
    """A blob to commit with a new version: its id, and its bytes when it is inline."""

    blob_id: str
    inline: bytes | None = None


class BlobStore(Protocol):
    def open_writer(self, transform: Transform | None = None, *, small: bool = False) -> BlobWriter:
        """``small``: the caller knows the body fits ``inline_blobs.INLINE_LIMIT``: it may be
        kept inline (committed with its version rather than written to a file)."""
        ...

    def read(self, blob_id: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` .. ``end`` (exclusive) of a blob, in chunks."""
        ...

    def open(self, blob_id: str) -> BinaryIO:
        """The blob's stored bytes as a file object (for streaming them elsewhere)."""
        ...

    def path(self, blob_id: str) -> Path:
        """Where a disk blob lives (not for inline blobs)."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove a disk blob; inline blobs go with their version's metadata, not here."""
        ...

    def link_copy(self, blob_id: str) -> BlobRef:
        """A new blob with the same bytes (a hard link where the disk allows)."""
        ...

    def concat(self, blob_ids: Sequence[str]) -> str:
        """A new blob holding the given blobs' bytes one after another, durably in place."""
        ...


class _MemoryBlobWriter:
    """A small body kept in memory, to be committed inline with its version."""

    is_inline = True

    def __init__(self, store: DiskBlobStore, transform: Transform | None) -> None:
        self._store = store
        self._transform = transform
        self._buffer = bytearray()
        self._digests = Digests()

    @property
    def digests(self) -> Digests:
        return self._digests

    def write(self, data: bytes | memoryview) -> None:
        self._digests.update(data)
        self._buffer += self._transform(data) if self._transform is not None else data

    def copy_blob(self, blob_id: str) -> int:
        with self._store.open(blob_id) as source:
            data = source.read()
        self._buffer += data
        return len(data)

    def finish(self) -> StagedBlob:
        return StagedBlob(
            blob_id=new_inline_id(),
            size=self._digests.size,
            md5_hex=self._digests.md5_hex(),
            crc64=self._digests.crc64,
            inline=bytes(self._buffer),
        )

    def abort(self) -> None:
        self._buffer.clear()


class _DiskBlobWriter:
    is_inline = False

    def __init__(self, store: DiskBlobStore, transform: Transform | None) -> None:
        self._store = store
        self._transform = transform
        self._blob_id = uuid.uuid4().hex
        self._tmp = store.tmp_dir / self._blob_id
        self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._digests = Digests()

    @property
    def digests(self) -> Digests:
        return self._digests

    def write(self, data: bytes | memoryview) -> None:
        self._digests.update(data)
        _write_all(self._fd, self._transform(data) if self._transform is not None else data)

    def copy_blob(self, blob_id: str) -> int:
        if is_inline(blob_id):
            data = self._store.inline_bytes(blob_id)
            _write_all(self._fd, data)
            return len(data)
        with open(self._store.path(blob_id), "rb") as source:
            size = os.fstat(source.fileno()).st_size
            _copy_file(source.fileno(), self._fd, size)
        return size

    def finish(self) -> StagedBlob:
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
        final = self._store.path(self._blob_id)
        os.rename(self._tmp, final)
        return StagedBlob(
            blob_id=self._blob_id,
            size=self._digests.size,
            md5_hex=self._digests.md5_hex(),
            crc64=self._digests.crc64,
        )

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._tmp.unlink(missing_ok=True)


def _copy_file(source: int, target: int, size: int) -> None:
    """Copy ``size`` bytes from the current position of one descriptor to another, in the kernel
    (``copy_file_range``: no pass through user space, a reflink on file systems that share
    extents), falling back to reads and writes where the call is not supported."""
    remaining = size
    while remaining > 0:
        try:
            copied = os.copy_file_range(source, target, remaining)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            _copy_by_reading(source, target, remaining)
            return
        if copied == 0:
            raise OSError(f"the source ended {remaining} bytes early")
        remaining -= copied


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_by_reading(source: int, target: int, size: int) -> None:
    remaining = size
    while remaining > 0:
        chunk = os.read(source, min(READ_CHUNK, remaining))
        if not chunk:
            raise OSError(f"the source ended {remaining} bytes early")
        _write_all(target, chunk)
        remaining -= len(chunk)


class DiskBlobStore:
    """Blobs as files under ``root/blobs/<2 hex>/<id>``; temp files under ``root/tmp``; small
    bodies inline in the metadata database when the writer says they are small."""

    def __init__(self, root: Path, inline: InlineBlobReader | None = None) -> None:
        self.root = root
        self._inline = inline
        self.tmp_dir = root / "tmp"
        self.blob_dir = root / "blobs"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for i in range(256):
            (self.blob_dir / f"{i:02x}").mkdir(parents=True, exist_ok=True)
        self._sweep_tmp()

    def _sweep_tmp(self) -> None:
        # Temp files are never referenced by metadata: anything left is from a crash.
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)

    def path(self, blob_id: str) -> Path:
        return self.blob_dir / blob_id[:2] / blob_id

    def open_writer(self, transform: Transform | None = None, *, small: bool = False) -> BlobWriter:
        if small and self._inline is not None:
            return _MemoryBlobWriter(self, transform)
        return _DiskBlobWriter(self, transform)

    def inline_bytes(self, blob_id: str) -> bytes:
        if self._inline is None:
            raise OSError(f"blob {blob_id} is inline but this store has no database")
        return self._inline.get(blob_id)

    def open(self, blob_id: str) -> BinaryIO:
        if is_inline(blob_id):
            return io.BytesIO(self.inline_bytes(blob_id))
        return open(self.path(blob_id), "rb")

    def read(self, blob_id: str, start: int, end: int) -> Iterator[bytes]:
        if is_inline(blob_id):
            data = self.inline_bytes(blob_id)[start:end]
            if len(data) != end - start:
                raise OSError(f"blob {blob_id} is shorter than its metadata says")
            yield data
            return
        with open(self.path(blob_id), "rb", buffering=0) as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = f.read(min(READ_CHUNK, remaining))
                if not chunk:
                    raise OSError(f"blob {blob_id} is shorter than its metadata says")
                remaining -= len(chunk)
                yield chunk

    def delete(self, blob_id: str) -> None:
        if blob_id and not is_inline(blob_id):
            self.path(blob_id).unlink(missing_ok=True)

    def link_copy(self, blob_id: str) -> BlobRef:
        if is_inline(blob_id):
            return BlobRef(new_inline_id(), self.inline_bytes(blob_id))
        new_id = uuid.uuid4().hex
        os.link(self.path(blob_id), self.path(new_id))
        return BlobRef(new_id)

    def concat(self, blob_ids: Sequence[str]) -> str:
        writer = _DiskBlobWriter(self, None)
        try:
            for blob_id in blob_ids:
                writer.copy_blob(blob_id)
            return writer.finish().blob_id
        except BaseException:
            writer.abort()
            raise
