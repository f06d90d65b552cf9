"""Hotlink protection: a bucket's Referer allow and block lists, and the check.

As on OSS the check applies to requests that carry no Authorization header
(anonymous and presigned-URL access); signed API calls are not affected.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import ClassVar

from ferry.core.errors import OssError

MAX_REFERER_BYTES = 20 * 1024


@dataclass(frozen=True)
class RefererConfiguration:
    KIND: ClassVar[str] = "referer"
    allow_empty_referer: bool = True
    referers: tuple[str, ...] = ()
    allow_truncate_query_string: bool = True
    truncate_path: bool = False
    black_referers: tuple[str, ...] = ()


def validate(config: RefererConfiguration) -> RefererConfiguration:
    size = sum(len(r.encode()) for r in config.referers + config.black_referers)
    if size > MAX_REFERER_BYTES:
        raise OssError("InvalidArgument", "The referer lists must not exceed 20 KB.")
    return config


def _matches(pattern: str, referer: str) -> bool:
    pattern, referer = pattern.lower(), referer.lower()
    escaped = pattern.replace("[", "[[]")
    if fnmatch.fnmatchcase(referer, escaped):
        return True
    if "://" not in pattern and "://" in referer:
        # A pattern without a scheme matches http and https alike.
        return fnmatch.fnmatchcase(referer.split("://", 1)[1], escaped)
    return False


def _normalise(config: RefererConfiguration, referer: str) -> str:
    if config.allow_truncate_query_string:
        referer = referer.split("?", 1)[0]
    if config.truncate_path and "://" in referer:
        scheme, rest = referer.split("://", 1)
        referer = f"{scheme}://{rest.split('/', 1)[0]}"
    return referer


def allows(config: RefererConfiguration, referer: str | None) -> bool:
    if not referer:
        return config.allow_empty_referer
    value = _normalise(config, referer)
    if any(_matches(p, value) for p in config.black_referers):
        return False
    if not config.referers:
        return True
    return any(_matches(p, value) for p in config.referers)


def check(config: RefererConfiguration | None, referer: str | None) -> None:
    if config is not None and not allows(config, referer):
        raise OssError("AccessDenied", "You are denied by bucket referer policy.")
