"""ListObjectVersions over the metadata store: every version and delete marker, paged."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.core.model import ObjectVersion
from ferry.service.listing import common_prefix
from ferry.storage.interfaces import MetadataStore
from ferry.storage.sqlite_rows import prefix_upper_bound

_BATCH = 1000


@dataclass(frozen=True)
class VersionPage:
    versions: list[ObjectVersion]
    """Versions and delete markers, by key and newest first within a key."""
    common_prefixes: list[str]
    truncated: bool
    next_key_marker: str
    next_version_marker: str


def list_versions(
    store: MetadataStore,
    bucket: str,
    *,
    prefix: str,
    delimiter: str,
    key_marker: str,
    version_marker: str,
    max_keys: int,
) -> VersionPage:
    versions: list[ObjectVersion] = []
    prefixes: list[str] = []
    last_key, last_version = "", ""
    # With a version marker the listing resumes inside key_marker, after that version.
    cursor, inclusive = key_marker, bool(key_marker and version_marker)
    skipping = bool(key_marker and version_marker)
    while True:
        batch = store.list_versions(bucket, prefix, cursor, _BATCH, inclusive=inclusive)
        if not batch:
            return VersionPage(versions, prefixes, False, "", "")
        inclusive = False
        for version in batch:
            cursor = version.key
            if skipping:
                if version.key != key_marker:
                    skipping = False
                else:
                    if version.version_id == version_marker:
                        skipping = False
                    continue
            common = common_prefix(version.key, prefix, delimiter)
            entry_key = version.key if common is None else common
            if common is not None and common == key_marker:
                entry_key = ""  # the previous page ended on this common prefix
            if entry_key:
                if len(versions) + len(prefixes) == max_keys:
                    return VersionPage(versions, prefixes, True, last_key, last_version)
                if common is None:
                    versions.append(version)
                    last_key, last_version = version.key, version.version_id
                else:
                    prefixes.append(common)
                    last_key, last_version = common, ""
            if common is None:
                continue
            upper = prefix_upper_bound(common)
            if upper is None:
                return VersionPage(versions, prefixes, False, "", "")
            cursor, inclusive = upper, True
            break
        else:
            if len(batch) < _BATCH:
                return VersionPage(versions, prefixes, False, "", "")
