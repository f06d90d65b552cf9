"""ListObjects (v1 and v2) over the metadata store: prefix, delimiter, markers, paging."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.core.model import ObjectVersion
from ferry.storage.interfaces import MetadataStore
from ferry.storage.sqlite_rows import prefix_upper_bound

_BATCH = 1000


@dataclass(frozen=True)
class ObjectPage:
    objects: list[ObjectVersion]
    common_prefixes: list[str]
    truncated: bool
    next_marker: str
    """The last key or common prefix returned; where the next page starts."""


def list_objects(
    store: MetadataStore, bucket: str, *, prefix: str, delimiter: str, after: str, max_keys: int
) -> ObjectPage:
    """One page of at most ``max_keys`` entries (objects plus common prefixes) after ``after``."""
    objects: list[ObjectVersion] = []
    prefixes: list[str] = []
    cursor, inclusive = after, False
    last = ""
    while True:
        batch = store.list_latest(bucket, prefix, cursor, _BATCH, inclusive=inclusive)
        inclusive = False
        if not batch:
            return ObjectPage(objects, prefixes, False, "")
        for version in batch:
            cursor = version.key
            common = common_prefix(version.key, prefix, delimiter)
            entry = version.key if common is None else common
            if entry != after:
                if len(objects) + len(prefixes) == max_keys:
                    # One more entry exists beyond a full page: the listing is truncated.
                    return ObjectPage(objects, prefixes, True, last)
                if common is None:
                    objects.append(version)
                else:
                    prefixes.append(common)
                last = entry
            if common is None:
                continue
            # Skip every other key under this common prefix in one seek.
            upper = prefix_upper_bound(common)
            if upper is None:
                return ObjectPage(objects, prefixes, False, "")
            cursor, inclusive = upper, True
            break
        else:
            if len(batch) < _BATCH:
                return ObjectPage(objects, prefixes, False, "")


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    if at < 0:
        return None
    return key[: at + len(delimiter)]
