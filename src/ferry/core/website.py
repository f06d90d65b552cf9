"""Static website hosting: index and error documents, and routing rules applied on a miss.

A GET that finds no object consults the bucket's website configuration, in this
order (as OSS does): a routing rule whose condition holds (redirect, internal
rewrite, or mirror back-to-origin), then the index document for a directory-like
key, then the error document for anonymous callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from ferry.core.errors import OssError

MAX_ROUTING_RULES = 20
REDIRECT_TYPES = frozenset({"Mirror", "External", "Internal", "AliCDN"})


@dataclass(frozen=True)
class IncludeHeader:
    key: str
    equals: str


@dataclass(frozen=True)
class RoutingCondition:
    key_prefix_equals: str | None = None
    key_suffix_equals: str | None = None
    http_error_code_returned_equals: int | None = None
    include_headers: tuple[IncludeHeader, ...] = ()


@dataclass(frozen=True)
class MirrorHeaders:
    pass_all: bool | None = None
    pass_: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    set_: tuple[IncludeHeader, ...] = ()


@dataclass(frozen=True)
class Redirect:
    redirect_type: str
    pass_query_string: bool | None = None
    replace_key_with: str | None = None
    replace_key_prefix_with: str | None = None
    protocol: str | None = None
    host_name: str | None = None
    http_redirect_code: int | None = None
    mirror_url: str | None = None
    mirror_url_slave: str | None = None
    mirror_url_probe: str | None = None
    mirror_pass_query_string: bool | None = None
    mirror_follow_redirect: bool | None = None
    mirror_check_md5: bool | None = None
    mirror_headers: MirrorHeaders | None = None


@dataclass(frozen=True)
class RoutingRule:
    rule_number: int
    condition: RoutingCondition
    redirect: Redirect


@dataclass(frozen=True)
class WebsiteConfiguration:
    KIND: ClassVar[str] = "website"
    index_suffix: str | None = None
    support_sub_dir: bool = False
    index_type: int = 0
    error_key: str | None = None
    error_status: int = 404
    rules: tuple[RoutingRule, ...] = ()


def _bad(message: str) -> OssError:
    return OssError("InvalidArgument", message)


def validate(config: WebsiteConfiguration) -> WebsiteConfiguration:
    if config.index_suffix is None and config.error_key is None and not config.rules:
        raise OssError("MalformedXML", "The website configuration needs an IndexDocument or RoutingRules.")
    if config.index_suffix is not None and ("/" in config.index_suffix or not config.index_suffix):
        raise _bad("The index document suffix must be a non-empty name without '/'.")
    if config.index_type not in (0, 1, 2):
        raise _bad("IndexDocument Type must be 0, 1 or 2.")
    if config.error_status not in (200, 404):
        raise _bad("ErrorDocument HttpStatus must be 200 or 404.")
    if len(config.rules) > MAX_ROUTING_RULES:
        raise _bad(f"At most {MAX_ROUTING_RULES} routing rules are allowed.")
    numbers = [r.rule_number for r in config.rules]
    if len(set(numbers)) != len(numbers) or any(n <= 0 for n in numbers):
        raise _bad("RuleNumber must be positive and unique.")
    for rule in config.rules:
        _check_redirect(rule)
    return config


def _check_redirect(rule: RoutingRule) -> None:
    redirect = rule.redirect
    if redirect.redirect_type not in REDIRECT_TYPES:
        raise _bad(f"Unsupported RedirectType {redirect.redirect_type!r}.")
    if redirect.replace_key_with is not None and redirect.replace_key_prefix_with is not None:
        raise _bad("ReplaceKeyWith and ReplaceKeyPrefixWith cannot both be set.")
    code = redirect.http_redirect_code
    if code is not None and not 300 <= code <= 399:
        raise _bad("HttpRedirectCode must be a 3xx status.")
    if redirect.redirect_type == "Mirror":
        if not redirect.mirror_url or not redirect.mirror_url.startswith(("http://", "https://")):
            raise _bad("MirrorURL must be an http:// or https:// URL.")
        if rule.condition.http_error_code_returned_equals not in (None, 404):
            raise _bad("A Mirror rule applies to 404 only.")


# --- applying a configuration to a request that found nothing ---------------------


def rule_for(
    config: WebsiteConfiguration, key: str, status: int, headers: Mapping[str, str]
) -> RoutingRule | None:
    """The first routing rule (by RuleNumber) whose condition holds for this miss."""
    for rule in sorted(config.rules, key=lambda r: r.rule_number):
        cond = rule.condition
        if cond.key_prefix_equals is not None and not key.startswith(cond.key_prefix_equals):
            continue
        if cond.key_suffix_equals is not None and not key.endswith(cond.key_suffix_equals):
            continue
        if cond.http_error_code_returned_equals not in (None, status):
            continue
        if any(headers.get(h.key.lower()) != h.equals for h in cond.include_headers):
            continue
        return rule
    return None


def rewritten_key(rule: RoutingRule, key: str) -> str:
    """The key an Internal/External/AliCDN rule sends the request to."""
    redirect = rule.redirect
    if redirect.replace_key_with is not None:
        return redirect.replace_key_with.replace("${key}", key)
    if redirect.replace_key_prefix_with is not None:
        prefix = rule.condition.key_prefix_equals or ""
        return redirect.replace_key_prefix_with + key[len(prefix) :]
    return key


def index_key(config: WebsiteConfiguration, key: str) -> str | None:
    """The index document to serve for ``key`` (a directory-like key), or None."""
    if config.index_suffix is None or not (key == "" or key.endswith("/")):
        return None
    if config.support_sub_dir:
        return key + config.index_suffix
    return config.index_suffix
