"""Lifecycle rules: the model, the checks PutBucketLifecycle makes, and which versions expire.

Dates are kept as ISO dates (``2016-12-25``): OSS takes and returns midnight UTC.
What the sweep does with a rule (see :mod:`ferry.service.lifecycle_sweep`):

- ``Expiration`` (Days, Date or CreatedBeforeDate) expires the current version:
  deleted in an unversioned bucket, hidden by a delete marker in a versioned one;
- ``ExpiredObjectDeleteMarker`` removes a delete marker that is the key's only version;
- ``NoncurrentVersionExpiration`` removes versions that have been noncurrent that long.

Transitions (and their noncurrent forms) and ``AbortMultipartUpload`` are validated,
stored and returned; storage classes are labels in Ferry, so no transition moves data.
"""

from __future__ import annotations

import calendar
import datetime
import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from ferry.core.errors import OssError

DAY = 86400.0
MAX_RULES = 1000
TRANSITION_CLASSES = ("IA", "Archive", "ColdArchive", "DeepColdArchive")
_TAG_CHARS = re.compile(r"^[A-Za-z0-9 +\-=._:/@]*$")


@dataclass(frozen=True)
class Expiration:
    days: int | None = None
    date: str | None = None
    created_before_date: str | None = None
    expired_object_delete_marker: bool | None = None


@dataclass(frozen=True)
class AbortMultipartUpload:
    days: int | None = None
    created_before_date: str | None = None


@dataclass(frozen=True)
class Transition:
    storage_class: str
    days: int | None = None
    created_before_date: str | None = None
    is_access_time: bool | None = None
    return_to_std_when_visit: bool | None = None
    allow_small_file: bool | None = None


@dataclass(frozen=True)
class NoncurrentTransition:
    noncurrent_days: int
    storage_class: str
    is_access_time: bool | None = None
    return_to_std_when_visit: bool | None = None
    allow_small_file: bool | None = None


@dataclass(frozen=True)
class FilterNot:
    prefix: str = ""
    tag_key: str | None = None
    tag_value: str | None = None


@dataclass(frozen=True)
class Filter:
    object_size_greater_than: int | None = None
    object_size_less_than: int | None = None
    nots: tuple[FilterNot, ...] = ()


@dataclass(frozen=True)
class LifecycleRule:
    id: str
    prefix: str
    status: str
    expiration: Expiration | None = None
    abort_multipart_upload: AbortMultipartUpload | None = None
    transitions: tuple[Transition, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    noncurrent_days: int | None = None
    """NoncurrentVersionExpiration/NoncurrentDays."""
    noncurrent_transitions: tuple[NoncurrentTransition, ...] = ()
    filter: Filter | None = None
    atime_base: int | None = None

    @property
    def enabled(self) -> bool:
        return self.status == "Enabled"


@dataclass(frozen=True)
class LifecycleConfiguration:
    KIND: ClassVar[str] = "lifecycle"
    rules: tuple[LifecycleRule, ...]


# --- validation -------------------------------------------------------------------


def parse_date(text: str) -> str:
    """``2016-12-25T00:00:00.000Z`` (or a bare date) to ``2016-12-25``; midnight UTC only."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(T00:00:00(\.000)?Z)?", text.strip())
    if match is None:
        raise OssError("InvalidArgument", f"{text!r} is not a date at midnight UTC (ISO 8601).")
    try:
        datetime.date.fromisoformat(match.group(1))
    except ValueError:
        raise OssError("InvalidArgument", f"{text!r} is not a valid date.") from None
    return match.group(1)


def date_timestamp(date: str) -> float:
    return float(calendar.timegm(datetime.date.fromisoformat(date).timetuple()))


def _invalid(message: str) -> OssError:
    return OssError("InvalidArgument", message)


def validate(config: LifecycleConfiguration, *, allow_overlap: bool = False) -> LifecycleConfiguration:
    if not config.rules:
        raise OssError("MalformedXML", "The lifecycle configuration needs at least one Rule.")
    if len(config.rules) > MAX_RULES:
        raise _invalid(f"At most {MAX_RULES} lifecycle rules are allowed.")
    rules = tuple(_check_rule(r) for r in config.rules)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise _invalid("Rule IDs must be unique.")
    if not allow_overlap:
        _check_overlap(rules)
    return LifecycleConfiguration(rules)


def _check_rule(rule: LifecycleRule) -> LifecycleRule:
    if not rule.id:
        rule = replace(rule, id=str(uuid.uuid4()))
    if len(rule.id) > 255:
        raise _invalid("A rule ID is at most 255 characters long.")
    if rule.status not in ("Enabled", "Disabled"):
        raise OssError("MalformedXML", "Status must be Enabled or Disabled.")
    if not (
        rule.expiration
        or rule.transitions
        or rule.abort_multipart_upload
        or rule.noncurrent_days is not None
        or rule.noncurrent_transitions
    ):
        raise _invalid("A rule needs at least one action.")
    for key, value in rule.tags.items():
        if not _TAG_CHARS.match(key) or not key or not _TAG_CHARS.match(value):
            raise _invalid(f"The tag {key!r}={value!r} has characters lifecycle tags cannot use.")
    _check_expiration(rule)
    _check_transitions(rule)
    _check_noncurrent(rule)
    return rule


def _check_expiration(rule: LifecycleRule) -> None:
    exp = rule.expiration
    if exp is not None:
        given = [
            exp.days is not None,
            exp.date is not None,
            exp.created_before_date is not None,
            exp.expired_object_delete_marker is not None,
        ]
        if sum(given) != 1:
            raise OssError(
                "MalformedXML",
                "Expiration takes one of Days, Date, CreatedBeforeDate or ExpiredObjectDeleteMarker.",
            )
        if exp.days is not None and exp.days <= 0:
            raise _invalid("Expiration Days must be positive.")
    amu = rule.abort_multipart_upload
    if amu is not None:
        if (amu.days is None) == (amu.created_before_date is None):
            raise OssError("MalformedXML", "AbortMultipartUpload takes Days or CreatedBeforeDate.")
        if amu.days is not None and amu.days <= 0:
            raise _invalid("AbortMultipartUpload Days must be positive.")


def _check_transitions(rule: LifecycleRule) -> None:
    exp = rule.expiration
    by_days = exp is not None and exp.days is not None
    by_date = exp is not None and (exp.created_before_date is not None or exp.date is not None)
    days_of: dict[str, int] = {}
    for t in rule.transitions:
        if t.storage_class not in TRANSITION_CLASSES:
            raise _invalid(f"A rule cannot transition objects to {t.storage_class!r}.")
        if (t.days is None) == (t.created_before_date is None):
            raise OssError("MalformedXML", "A Transition takes Days or CreatedBeforeDate.")
        if (by_days and t.days is None) or (by_date and t.created_before_date is None):
            raise OssError("InvalidRequest", "Expiration and Transition must both use days or both dates.")
        if t.days is not None:
            if t.days <= 0:
                raise _invalid("Transition Days must be positive.")
            if exp is not None and exp.days is not None and t.days >= exp.days:
                raise _invalid("An object must transition before it expires.")
            days_of[t.storage_class] = t.days
    _check_class_order(days_of)


def _check_class_order(days_of: Mapping[str, int]) -> None:
    """Colder classes come later: IA < Archive < ColdArchive < DeepColdArchive."""
    ordered = [days_of[c] for c in TRANSITION_CLASSES if c in days_of]
    if any(later <= earlier for earlier, later in itertools.pairwise(ordered)):
        raise _invalid("Transitions to colder storage classes must come later.")


def _check_noncurrent(rule: LifecycleRule) -> None:
    if rule.noncurrent_days is not None and rule.noncurrent_days <= 0:
        raise _invalid("NoncurrentDays must be positive.")
    days_of: dict[str, int] = {}
    for t in rule.noncurrent_transitions:
        if t.storage_class not in TRANSITION_CLASSES:
            raise _invalid(f"A rule cannot transition versions to {t.storage_class!r}.")
        if t.noncurrent_days <= 0:
            raise _invalid("NoncurrentDays must be positive.")
        if rule.noncurrent_days is not None and t.noncurrent_days >= rule.noncurrent_days:
            raise _invalid("A version must transition before it expires.")
        days_of[t.storage_class] = t.noncurrent_days
    _check_class_order(days_of)


def _actions(rule: LifecycleRule) -> set[str]:
    actions = set()
    if rule.expiration is not None:
        actions.add("Expiration")
    if rule.transitions:
        actions.add("Transition")
    if rule.abort_multipart_upload is not None:
        actions.add("AbortMultipartUpload")
    if rule.noncurrent_days is not None:
        actions.add("NoncurrentVersionExpiration")
    if rule.noncurrent_transitions:
        actions.add("NoncurrentVersionTransition")
    return actions


def _check_overlap(rules: Sequence[LifecycleRule]) -> None:
    """Two rules whose prefixes overlap may not take the same action (unless the caller allows it)."""
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if not (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)):
                continue
            if any(a.tags.get(k, v) != v for k, v in b.tags.items()):
                continue  # different values for one tag key: no object matches both
            for action in sorted(_actions(a) & _actions(b)):
                raise OssError("InvalidRequest", f"Overlap for same action type {action}")


# --- which versions a rule acts on --------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """What the sweep knows about one version when it asks the rules."""

    key: str
    size: int
    tags: Mapping[str, str]
    created_at: float
    is_delete_marker: bool
    is_latest: bool
    noncurrent_since: float | None
    """When the next newer version was written (None for the latest)."""
    only_version: bool


def applies(rule: LifecycleRule, c: Candidate) -> bool:
    """Whether ``c`` is in the rule's scope (prefix, tags, size, Not filters)."""
    if not rule.enabled or not c.key.startswith(rule.prefix):
        return False
    if any(c.tags.get(k) != v for k, v in rule.tags.items()):
        return False
    f = rule.filter
    if f is None:
        return True
    if f.object_size_greater_than is not None and not c.size > f.object_size_greater_than:
        return False
    if f.object_size_less_than is not None and not c.size < f.object_size_less_than:
        return False
    for n in f.nots:
        if c.key.startswith(n.prefix) and (n.tag_key is None or c.tags.get(n.tag_key) == n.tag_value):
            return False
    return True


def _expired(exp: Expiration, created_at: float, now: float) -> bool:
    if exp.days is not None:
        return created_at + exp.days * DAY <= now
    if exp.created_before_date is not None:
        return created_at < date_timestamp(exp.created_before_date)
    if exp.date is not None:
        # The deprecated form: from that date on, everything in scope expires.
        return now >= date_timestamp(exp.date)
    return False


class Action:
    EXPIRE_CURRENT = "expire-current"
    REMOVE_DELETE_MARKER = "remove-delete-marker"
    REMOVE_NONCURRENT = "remove-noncurrent"


def decide(rules: Sequence[LifecycleRule], c: Candidate, now: float) -> str | None:
    """What the rules do with this version now (an ``Action``), or None."""
    for rule in rules:
        if not applies(rule, c):
            continue
        exp = rule.expiration
        if c.is_latest and not c.is_delete_marker and exp is not None and _expired(exp, c.created_at, now):
            return Action.EXPIRE_CURRENT
        if (
            c.is_latest
            and c.is_delete_marker
            and c.only_version
            and exp is not None
            and exp.expired_object_delete_marker
        ):
            return Action.REMOVE_DELETE_MARKER
        if (
            not c.is_latest
            and rule.noncurrent_days is not None
            and c.noncurrent_since is not None
            and c.noncurrent_since + rule.noncurrent_days * DAY <= now
        ):
            return Action.REMOVE_NONCURRENT
    return None
