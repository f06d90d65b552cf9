"""A local key service: master keys that wrap per-object data keys, and the stream ciphers.

Master keys live in their own file (mode 0600) in the region's data folder, apart
from the blobs, so the blob files alone never reveal an object's bytes.
Objects are encrypted with AES-256 in CTR mode (so a range read decrypts from any
offset); data keys are wrapped with AES-256-GCM.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ferry.core.encryption import SM4_CIPHER, Encryption, SseAlgorithm
from ferry.core.errors import OssError

KEYS_FILE = "kms-keys.json"
MANAGED_KEY = "ferry-managed"
"""The master key of SSE with ``AES256`` (keys Ferry manages for the user)."""
_BLOCK = 16


class KeyService:
    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / KEYS_FILE
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        if self._path.exists():
            stored = json.loads(self._path.read_text())
            self._keys = {k: base64.b64decode(v) for k, v in stored["keys"].items()}
            self.default_key_id: str = stored["default"]
        else:
            self.default_key_id = str(uuid.uuid4())
            self._keys = {MANAGED_KEY: os.urandom(32), self.default_key_id: os.urandom(32)}
            self._save()

    def _save(self) -> None:
        data = {
            "default": self.default_key_id,
            "keys": {k: base64.b64encode(v).decode() for k, v in self._keys.items()},
        }
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path)

    def create_key(self) -> str:
        with self._lock:
            key_id = str(uuid.uuid4())
            self._keys[key_id] = os.urandom(32)
            self._save()
            return key_id

    def _master(self, key_id: str) -> bytes:
        master = self._keys.get(key_id)
        if master is None:
            raise OssError("InvalidArgument", f"The KMS key {key_id!r} does not exist.")
        return master

    def _master_id(self, algorithm: SseAlgorithm, key_id: str | None) -> str:
        if algorithm is SseAlgorithm.KMS:
            return key_id or self.default_key_id
        return MANAGED_KEY

    def new_encryption(
        self, algorithm: SseAlgorithm, key_id: str | None, data_encryption: str | None = None
    ) -> tuple[Encryption, bytes]:
        """A fresh data key for one object: (what to store with the version, the plaintext key).

        SSE ``SM4``, and SSE-KMS with data encryption ``SM4``, encrypt the bytes with SM4.
        """
        master_id = self._master_id(algorithm, key_id)
        master = self._master(master_id)
        data_key, nonce, iv = os.urandom(32), os.urandom(12), os.urandom(_BLOCK)
        wrapped = nonce + AESGCM(master).encrypt(nonce, data_key, master_id.encode())
        sm4 = algorithm is SseAlgorithm.SM4 or (
            algorithm is SseAlgorithm.KMS and data_encryption == SM4_CIPHER
        )
        info = Encryption(
            algorithm, master_id, base64.b64encode(wrapped).decode(), iv.hex(), SM4_CIPHER if sm4 else ""
        )
        return info, data_key

    def rewrap(self, info: Encryption, algorithm: SseAlgorithm, key_id: str | None) -> Encryption:
        """The same data key and IV wrapped by another master key: no byte is re-encrypted."""
        master_id = self._master_id(algorithm, key_id)
        master = self._master(master_id)
        nonce = os.urandom(12)
        wrapped = nonce + AESGCM(master).encrypt(nonce, self.data_key(info), master_id.encode())
        return replace(
            info, algorithm=algorithm, key_id=master_id, wrapped_key=base64.b64encode(wrapped).decode()
        )

    def data_key(self, info: Encryption) -> bytes:
        wrapped = base64.b64decode(info.wrapped_key)
        master = self._master(info.key_id)
        return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], info.key_id.encode())


def encryptor(data_key: bytes, info: Encryption) -> StreamCipher:
    return StreamCipher(data_key, bytes.fromhex(info.iv), 0, info.data_encryption)


class StreamCipher:
    """AES-256-CTR (or SM4-CTR) from a byte offset; the same operation encrypts and decrypts."""

    def __init__(self, data_key: bytes, iv: bytes, offset: int, cipher: str = "") -> None:
        counter = (int.from_bytes(iv, "big") + offset // _BLOCK) % (1 << 128)
        block = algorithms.SM4(data_key[:16]) if cipher == SM4_CIPHER else algorithms.AES(data_key)
        self._ctx = Cipher(block, modes.CTR(counter.to_bytes(_BLOCK, "big"))).encryptor()
        skip = offset % _BLOCK
        if skip:
            self._ctx.update(b"\0" * skip)

    def __call__(self, data: bytes | memoryview) -> bytes:
        return self._ctx.update(data)


def decrypt_chunks(
    chunks: Iterator[bytes], data_key: bytes, info: Encryption, offset: int
) -> Iterator[bytes]:
    cipher = StreamCipher(data_key, bytes.fromhex(info.iv), offset, info.data_encryption)
    for chunk in chunks:
        yield cipher(chunk)


class DecryptingFile:
    """A read-only file object that yields an encrypted blob's plaintext (for streaming uploads)."""

    def __init__(self, stored: BinaryIO, data_key: bytes, info: Encryption, offset: int = 0) -> None:
        """``stored`` is positioned at ``offset`` of the blob already."""
        self._file = stored
        self._cipher = StreamCipher(data_key, bytes.fromhex(info.iv), offset, info.data_encryption)

    def read(self, size: int = -1) -> bytes:
        return self._cipher(self._file.read(size))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> DecryptingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
