"""From an HTTP request target and Host header to (bucket, key, query).

Path style (``/bucket/key``) is used when the Host is an IP literal,
``localhost``, the region's own endpoint host or an ``oss-<region>`` service
host; otherwise the first label of the Host names the bucket (virtual-host
style), as ali-oss and proxied SDK clients send it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus, urlsplit

_SERVICE_HOST_RE = re.compile(r"^oss-[a-z0-9-]+\.aliyuncs\.com$")


@dataclass(frozen=True)
class Target:
    bucket: str | None
    key: str | None
    query: tuple[tuple[str, str], ...]


def split_host(host: str) -> str:
    """Host header without the port, lower-cased; IPv6 brackets removed."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_service_host(host: str, endpoint_hosts: frozenset[str]) -> bool:
    return (
        host in endpoint_hosts
        or host == "localhost"
        or _is_ip(host)
        or _SERVICE_HOST_RE.match(host) is not None
        or "." not in host
    )


def parse_query(raw: str) -> tuple[tuple[str, str], ...]:
    """Decode a query string; ``k`` and ``k=`` are the same (value '')."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            # quote_plus-style: oss2 sends a space as "+", and a real "+" as %2B.
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return tuple(pairs)


def resolve(raw_target: str, host_header: str, endpoint_hosts: frozenset[str]) -> Target:
    """Resolve a raw (still percent-encoded) request target against the Host header."""
    if raw_target.startswith(("http://", "https://")):
        # Absolute form, as clients behind an HTTP proxy send it.
        parts = urlsplit(raw_target)
        host_header = parts.netloc or host_header
        raw_path, raw_query = parts.path or "/", parts.query
    else:
        raw_path, _, raw_query = raw_target.partition("?")
    query = parse_query(raw_query)
    host = split_host(host_header)
    path = unquote(raw_path)
    if not is_service_host(host, endpoint_hosts):
        label = host.split(".", 1)[0]
        bucket = label or None  # ali-oss sends ".<endpoint>" for service-level calls
        key = path[1:] if path.startswith("/") else path
        return Target(bucket, key or None, query)
    # Path style: the first segment of the *encoded* path is the bucket, so a
    # %2F inside a key never moves the split.
    encoded = raw_path[1:] if raw_path.startswith("/") else raw_path
    first, sep, rest = encoded.partition("/")
    bucket_name = unquote(first)
    if not bucket_name:
        return Target(None, None, query)
    key_text = unquote(rest) if sep else ""
    return Target(bucket_name, key_text or None, query)
