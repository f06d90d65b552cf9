"""Many small replicated objects in one region-to-region request.

``POST /<bucket>?x-ferry-replica-batch`` carries a run of items, each the headers a single
replica PUT would carry (``replica_wire.put_headers``) with its key and bytes.  Under load the
per-request cost (HTTP, signature, a thread hop and a commit each) is what limits replication
of small objects; a batch pays it once and its items commit in one group at the destination.

Framing, per item: ``>II`` (length of the JSON head, length of the body), the head
(``{"key": ..., "headers": {...}}``), the body.  The answer is a JSON list, one entry per item:
``{"applied": bool}`` or ``{"code", "message", "status"}`` (that item's OSS error).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ferry.core.errors import OssError

SUBRESOURCE = "x-ferry-replica-batch"
MAX_ITEMS = 256
MAX_BATCH_BYTES = 8 * 1024 * 1024
"""The most a batch body may hold (heads included): the destination reads it whole."""

_FRAME = struct.Struct(">II")


@dataclass(frozen=True)
class BatchItem:
    key: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ItemResult:
    """What the destination did with one item: applied (True/False) or an OSS error."""

    applied: bool = False
    code: str = ""
    message: str = ""
    status: int = 0

    @property
    def ok(self) -> bool:
        return not self.code


def encode_items(items: Sequence[BatchItem]) -> bytes:
    out = bytearray()
    for item in items:
        head = json.dumps({"key": item.key, "headers": dict(item.headers)}, separators=(",", ":")).encode()
        out += _FRAME.pack(len(head), len(item.body))
        out += head
        out += item.body
    return bytes(out)


def _malformed(why: str) -> OssError:
    return OssError("InvalidArgument", f"The replica batch is malformed: {why}.")


def decode_items(data: bytes) -> list[BatchItem]:
    items: list[BatchItem] = []
    view = memoryview(data)
    at = 0
    while at < len(data):
        if len(items) >= MAX_ITEMS:
            raise _malformed(f"more than {MAX_ITEMS} items")
        if at + _FRAME.size > len(data):
            raise _malformed("a frame is cut short")
        head_len, body_len = _FRAME.unpack_from(view, at)
        at += _FRAME.size
        if at + head_len + body_len > len(data):
            raise _malformed("an item is cut short")
        try:
            head = json.loads(bytes(view[at : at + head_len]))
        except (UnicodeDecodeError, ValueError):
            raise _malformed("an item's head is not JSON") from None
        at += head_len
        key, headers = (head.get("key"), head.get("headers")) if isinstance(head, dict) else (None, None)
        if not isinstance(key, str) or not key or not isinstance(headers, dict):
            raise _malformed("an item's head lacks its key or headers")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise _malformed("an item's headers are not text")
        items.append(
            BatchItem(key, {k.lower(): v for k, v in headers.items()}, bytes(view[at : at + body_len]))
        )
        at += body_len
    return items


def encode_results(results: Sequence[ItemResult]) -> bytes:
    return json.dumps(
        [
            {"applied": r.applied} if r.ok else {"code": r.code, "message": r.message, "status": r.status}
            for r in results
        ],
        separators=(",", ":"),
    ).encode()


def decode_results(data: bytes, expected: int) -> list[ItemResult]:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the replica batch answer is not JSON") from None
    if not isinstance(raw, list) or len(raw) != expected:
        raise ValueError(f"the replica batch answer does not hold {expected} results")
    results = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ValueError("a replica batch result is not an object")
        if "code" in entry:
            results.append(
                ItemResult(
                    code=str(entry["code"]),
                    message=str(entry.get("message", "")),
                    status=int(entry.get("status", 0)),
                )
            )
        else:
            results.append(ItemResult(applied=bool(entry.get("applied"))))
    return results
