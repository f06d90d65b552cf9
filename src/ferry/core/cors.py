"""Cross-origin resource sharing: a bucket's CORS rules, their validation, and matching."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ferry.core.errors import OssError

MAX_RULES = 10
METHODS = frozenset({"GET", "PUT", "DELETE", "POST", "HEAD"})


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None


@dataclass(frozen=True)
class CorsConfiguration:
    KIND: ClassVar[str] = "cors"
    rules: tuple[CorsRule, ...]
    response_vary: bool = False


def _invalid(name: str, value: str, message: str) -> OssError:
    return OssError("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


def validate(config: CorsConfiguration) -> CorsConfiguration:
    if not config.rules:
        raise OssError("MalformedXML", "The CORS configuration needs at least one CORSRule.")
    if len(config.rules) > MAX_RULES:
        raise OssError("InvalidArgument", f"A bucket can have at most {MAX_RULES} CORS rules.")
    for rule in config.rules:
        if not rule.allowed_origins:
            raise OssError("MalformedXML", "Every CORSRule needs an AllowedOrigin.")
        if not rule.allowed_methods:
            raise OssError("MalformedXML", "Every CORSRule needs an AllowedMethod.")
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise _invalid("AllowedMethod", method, f"Unsupported method {method!r}.")
        for origin in rule.allowed_origins:
            if origin.count("*") > 1:
                raise _invalid("AllowedOrigin", origin, "An AllowedOrigin can have at most one '*'.")
        for header in rule.allowed_headers:
            if header.count("*") > 1:
                raise _invalid("AllowedHeader", header, "An AllowedHeader can have at most one '*'.")
        for header in rule.expose_headers:
            if "*" in header:
                raise _invalid("ExposeHeader", header, "An ExposeHeader cannot contain '*'.")
        if rule.max_age_seconds is not None and rule.max_age_seconds < 0:
            raise _invalid("MaxAgeSeconds", str(rule.max_age_seconds), "MaxAgeSeconds must not be negative.")
    return config


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    # fnmatch's other wildcards must be literal here: escape them before matching.
    escaped = pattern.replace("[", "[[]").replace("?", "[?]")
    return fnmatch.fnmatchcase(value, escaped)


def match(
    config: CorsConfiguration, origin: str, method: str, request_headers: Sequence[str] = ()
) -> CorsRule | None:
    """The first rule that allows ``origin`` to send ``method`` with ``request_headers``."""
    for rule in config.rules:
        if not any(_matches(p, origin, case_sensitive=True) for p in rule.allowed_origins):
            continue
        if method not in rule.allowed_methods:
            continue
        if all(
            any(_matches(p, h, case_sensitive=False) for p in rule.allowed_headers) for h in request_headers
        ):
            return rule
    return None
