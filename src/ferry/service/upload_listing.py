"""ListMultipartUploads over the multipart store: prefix, delimiter, key and upload-id markers."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.core.multipart import MultipartUpload
from ferry.service.listing import common_prefix
from ferry.storage.interfaces import MultipartStore
from ferry.storage.sqlite_rows import prefix_upper_bound

_BATCH = 1000
_ABOVE_ANY_UPLOAD_ID = "~"
"""Sorts after every upload id (upper-case hex): a cursor there is past all uploads of its key."""


@dataclass(frozen=True)
class UploadPage:
    uploads: list[MultipartUpload]
    """By key, then by upload id (which orders a key's uploads by initiation)."""
    common_prefixes: list[str]
    truncated: bool
    next_key_marker: str
    next_upload_id_marker: str


def list_uploads(
    store: MultipartStore,
    bucket: str,
    *,
    prefix: str,
    delimiter: str,
    key_marker: str,
    upload_id_marker: str,
    max_uploads: int,
) -> UploadPage:
    """One page of at most ``max_uploads`` entries (uploads plus common prefixes).

    With ``key_marker`` alone the page starts after every upload of that key; with an
    ``upload_id_marker`` too, after that upload of the key (OSS ignores an upload-id marker
    without a key marker).
    """
    uploads: list[MultipartUpload] = []
    prefixes: list[str] = []
    last_key, last_id = "", ""
    cursor = (key_marker, upload_id_marker or _ABOVE_ANY_UPLOAD_ID) if key_marker else ("", "")

    def page(truncated: bool) -> UploadPage:
        if not truncated:
            return UploadPage(uploads, prefixes, False, "", "")
        return UploadPage(uploads, prefixes, True, last_key, last_id)

    while True:  # each batch moves the cursor forward, so the keys run out
        batch = store.list_uploads(bucket, prefix, cursor[0], cursor[1], _BATCH)
        for upload in batch:
            cursor = (upload.key, upload.upload_id)
            common = common_prefix(upload.key, prefix, delimiter)
            if common is None:
                if len(uploads) + len(prefixes) == max_uploads:
                    return page(True)
                uploads.append(upload)
                last_key, last_id = upload.key, upload.upload_id
                continue
            if common != key_marker:  # else the previous page ended on this common prefix
                if len(uploads) + len(prefixes) == max_uploads:
                    return page(True)
                prefixes.append(common)
                last_key, last_id = common, ""
            # Skip every other upload under this common prefix in one seek.
            upper = prefix_upper_bound(common)
            if upper is None:
                return page(False)
            cursor = (upper, "")
            break
        else:
            if len(batch) < _BATCH:
                return page(False)
