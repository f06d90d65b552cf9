"""The root account and its access key, shared by every region of one Ferry.

``OSS_ACCESS_KEY_ID`` / ``OSS_ACCESS_KEY_SECRET`` from the environment win, so
the seeds' samples and the server share one environment; otherwise a key is
generated once, saved with mode 0600 in the data folder and printed once.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ferry.core.identity import SERVICE_ACCOUNT_ID
from ferry.storage.interfaces import AccessKey

ROOT_FILE = "root-account.json"


@dataclass(frozen=True)
class RootAccount:
    key: AccessKey
    generated: bool
    """True the first time a key was generated (and must be shown to the operator)."""


def _write_tmp(path: Path, data: dict[str, str]) -> Path:
    # A name of its own per process: region processes may start at the same moment.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _write_private(path: Path, data: dict[str, str]) -> None:
    os.replace(_write_tmp(path, data), path)


def _create_once(path: Path, data: dict[str, str]) -> dict[str, str]:
    """Store ``data`` unless another process stored its own first; return what is stored.

    A hard link never replaces an existing file, so exactly one writer wins.
    """
    tmp = _write_tmp(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    finally:
        tmp.unlink()
    return data


def load_root_account(data_dir: Path, environ: dict[str, str] | None = None) -> RootAccount:
    env = dict(os.environ) if environ is None else environ
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ROOT_FILE
    env_id, env_secret = env.get("OSS_ACCESS_KEY_ID"), env.get("OSS_ACCESS_KEY_SECRET")
    generated = False
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        candidate = {"account_id": str(secrets.randbelow(9 * 10**15) + 10**15)}
        if not (env_id and env_secret):
            candidate.update(_new_root_key())
        stored = _create_once(path, candidate)
        generated = stored is candidate and "access_key_id" in stored
    if env_id and env_secret:
        return RootAccount(AccessKey(env_id, env_secret, stored["account_id"]), False)
    if "access_key_id" not in stored:
        # The folder was first used with a key from the environment; now there is none.
        stored = {**stored, **_new_root_key()}
        _write_private(path, stored)
        generated = True
    key = AccessKey(stored["access_key_id"], stored["access_key_secret"], stored["account_id"])
    return RootAccount(key, generated)


def _new_root_key() -> dict[str, str]:
    return {"access_key_id": "LTAI" + secrets.token_hex(10), "access_key_secret": secrets.token_urlsafe(24)}


SERVICE_FILE = "service-account.json"


def load_service_key(data_dir: Path) -> AccessKey:
    """The replication service's key, generated once and shared by the regions of one data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SERVICE_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        candidate = {
            "access_key_id": "FERRYSVC" + secrets.token_hex(8),
            "access_key_secret": secrets.token_urlsafe(32),
        }
        stored = _create_once(path, candidate)
    return AccessKey(stored["access_key_id"], stored["access_key_secret"], SERVICE_ACCOUNT_ID)


IAM_KEY_FILE = "iam-master-key.json"


def load_iam_master_key(data_dir: Path) -> bytes:
    """The key that seals access-key secrets at rest and STS tokens, shared by the regions of one
    data folder (generated once, mode 0600, never stored in a database)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / IAM_KEY_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        stored = _create_once(path, {"master_key": base64.b64encode(secrets.token_bytes(32)).decode()})
    return base64.b64decode(stored["master_key"])


def root_account_id(data_dir: Path) -> str | None:
    """The default account's ID if ``ferry up`` has set it up already (never creates it)."""
    path = data_dir / ROOT_FILE
    if not path.exists():
        return None
    stored: dict[str, str] = json.loads(path.read_text())
    return stored["account_id"]
