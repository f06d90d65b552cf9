"""Access logs (PutBucketLogging): each bucket's requests, written as objects into its target bucket.

Requests are recorded in memory as they are answered and written every
``flush_seconds`` (and at shutdown) as one object per source bucket, named as OSS
names them: ``<TargetPrefix><SourceBucket><YYYY-mm-DD-HH-MM-SS>-<unique>``, one
line per request in OSS's field order.  Buckets without a logging configuration
are dropped at flush time; the buffer is bounded (the oldest records go first).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ferry.core.bucket_options import LoggingConfiguration
from ferry.core.errors import OssError
from ferry.core.model import Bucket
from ferry.service.bucket_configs import BucketConfigService
from ferry.service.objects import ObjectAttrs, ObjectService
from ferry.storage.blobs import BlobStore

log = logging.getLogger("ferry.access_log")

MAX_BUFFERED = 100_000


@dataclass(frozen=True)
class AccessRecord:
    at: float
    remote: str
    method: str
    uri: str
    status: int
    sent_bytes: int
    elapsed_ms: int
    referer: str
    user_agent: str
    host: str
    request_id: str
    requester: str
    operation: str
    bucket: str
    key: str
    error_code: str
    request_length: int
    access_key_id: str


def _quoted(value: str) -> str:
    return '"' + (value or "-").replace('"', "%22") + '"'


def format_line(r: AccessRecord) -> str:
    when = time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime(r.at))
    fields = [
        r.remote or "-",
        "-",
        "-",
        when,
        _quoted(f"{r.method} {r.uri} HTTP/1.1"),
        str(r.status),
        str(r.sent_bytes),
        str(r.elapsed_ms),
        _quoted(r.referer),
        _quoted(r.user_agent),
        _quoted(r.host),
        _quoted(r.request_id),
        _quoted("true"),
        _quoted(r.requester),
        _quoted(r.operation),
        _quoted(r.bucket),
        _quoted(r.key),
        "-",
        "-",
        _quoted(r.error_code),
        str(r.request_length),
        _quoted(r.requester),
        "-",
        _quoted("-"),
        _quoted("-"),
        _quoted("-"),
        _quoted("-"),
        _quoted(r.access_key_id),
    ]
    return " ".join(fields)


class AccessLog:
    def __init__(
        self,
        configs: BucketConfigService,
        find_bucket: Callable[[str], Bucket | None],
        objects: ObjectService,
        blobs: BlobStore,
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self._configs = configs
        self._find_bucket = find_bucket
        self._objects = objects
        self._blobs = blobs
        self._lock = threading.Lock()
        self._records: deque[AccessRecord] = deque(maxlen=max_buffered)

    def record(self, entry: AccessRecord) -> None:
        """Keep one answered request (cheap: called on the event loop)."""
        with self._lock:
            self._records.append(entry)

    def flush(self) -> int:
        """Write what was recorded to the target buckets (blocking); the number of log objects."""
        with self._lock:
            pending, self._records = self._records, deque(maxlen=self._records.maxlen)
        by_bucket: dict[str, list[AccessRecord]] = {}
        for entry in pending:
            by_bucket.setdefault(entry.bucket, []).append(entry)
        written = 0
        for source, entries in by_bucket.items():
            config = self._configs.get(source, LoggingConfiguration)
            target = self._find_bucket(config.target_bucket) if config is not None else None
            if config is None or target is None:
                continue
            try:
                self._write(source, config, target, entries)
                written += 1
            except OssError as error:
                log.warning("access log of %s not written to %s: %s", source, target.name, error)
        return written

    def _write(
        self, source: str, config: LoggingConfiguration, target: Bucket, entries: list[AccessRecord]
    ) -> None:
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(entries[0].at))
        key = f"{config.target_prefix}{source}{stamp}-{uuid.uuid4().hex[:16].upper()}"
        writer = self._blobs.open_writer()
        try:
            writer.write("".join(format_line(e) + "\n" for e in entries).encode())
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        attrs = ObjectAttrs(content_headers={"content-type": "text/plain"})
        self._objects.put(target, key, staged, attrs, owner_id=target.owner_id)
