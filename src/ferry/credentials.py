"""The root account and its access key, shared by every region of one Ferry.

``OSS_ACCESS_KEY_ID`` / ``OSS_ACCESS_KEY_SECRET`` from the environment win, so
the seeds' samples and the server share one environment; otherwise a key is
generated once, saved with mode 0600 in the data folder and printed once.
"""

from __future__ import annotations

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


def _write_private(path: Path, data: dict[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_root_account(data_dir: Path, environ: dict[str, str] | None = None) -> RootAccount:
    env = dict(os.environ) if environ is None else environ
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ROOT_FILE
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = False
    if "account_id" not in stored:
        stored["account_id"] = str(secrets.randbelow(9 * 10**15) + 10**15)
    env_id, env_secret = env.get("OSS_ACCESS_KEY_ID"), env.get("OSS_ACCESS_KEY_SECRET")
    if env_id and env_secret:
        key = AccessKey(env_id, env_secret, stored["account_id"])
    else:
        if "access_key_id" not in stored:
            stored["access_key_id"] = "LTAI" + secrets.token_hex(10)
            stored["access_key_secret"] = secrets.token_urlsafe(24)
            generated = True
        key = AccessKey(stored["access_key_id"], stored["access_key_secret"], stored["account_id"])
    if not path.exists() or generated:
        _write_private(path, stored)
    return RootAccount(key, generated)


SERVICE_FILE = "service-account.json"


def load_service_key(data_dir: Path) -> AccessKey:
    """The replication service's key, generated once and shared by the regions of one data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SERVICE_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        stored = {
            "access_key_id": "FERRYSVC" + secrets.token_hex(8),
            "access_key_secret": secrets.token_urlsafe(32),
        }
        _write_private(path, stored)
    return AccessKey(stored["access_key_id"], stored["access_key_secret"], SERVICE_ACCOUNT_ID)
