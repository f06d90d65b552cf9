"""CRC-64/ECMA-182 as OSS computes it, through crcmod's C extension."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import crcmod
import crcmod._crcfunext

_crc64: Callable[[bytes | memoryview, int], int] = crcmod.mkCrcFun(
    0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True
)


def crc64_update(crc: int, data: bytes | memoryview) -> int:
    """Continue a CRC-64 over more bytes; start from 0."""
    return _crc64(data, crc)


def crc64_of(data: bytes) -> int:
    return _crc64(data, 0)


class Digests:
    """MD5 and CRC-64 computed together in one pass over streamed bytes."""

    __slots__ = ("_md5", "crc64", "size")

    def __init__(self) -> None:
        self._md5 = hashlib.md5()
        self.crc64 = 0
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._md5.update(data)
        self.crc64 = _crc64(data, self.crc64)
        self.size += len(data)

    def md5_hex(self) -> str:
        return self._md5.hexdigest()

    def md5_digest(self) -> bytes:
        return self._md5.digest()
