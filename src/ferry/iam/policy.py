"""Policies in the RAM policy language: parsing, validation and evaluation of one document.

The same language serves three kinds of documents:

* identity policies (attached to RAM users and roles, and STS session policies): ``Action``,
  ``Resource``, ``Condition``; no ``Principal``;
* bucket policies (resource policies): the same plus ``Principal`` -- who the statement is about;
* role trust policies: who may assume the role (``Principal``: ``{"Service": [...]}`` or
  ``{"RAM": [...]}``), ``Action`` ``sts:AssumeRole``, no ``Resource``.

Matching: actions case-insensitively with ``*``/``?`` wildcards (``oss:Get*``); resources
case-sensitively (``acs:oss:*:*:bucket/prefix*``); ``NotAction``/``NotResource`` invert.  One
statement matching with ``Deny`` decides; otherwise any matching ``Allow`` allows; otherwise the
document has nothing to say (``None``: the implicit deny, left to the caller to combine).

Principal semantics of bucket policies (as OSS documents them): ``"*"`` is everyone, anonymous
callers included -- but not the bucket owner's own account unless the statement has a
``Condition`` (so ``Deny * + IpAddress`` can fence in the owner too, while a bare ``Deny *``
cannot lock the owner out).  Any other value names a principal: an account ID (that account's
owner key), a RAM user's ID, ``acs:ram::<account>:user/<name>``, ``acs:ram::<account>:role/<name>``
(any session of the role) or ``arn:sts::<account>:assumed-role/<role>/<session>``; wildcards work.
A bucket-policy statement without ``Principal`` (oss2's own tests write one) is kept as written:
as an ``Allow`` it applies to no one, as a ``Deny`` to everyone (fail closed both ways).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ferry.core.errors import OssError
from ferry.iam.conditions import Condition, all_hold, parse_conditions
from ferry.iam.wildcard import any_matches, matches


class Effect(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(enum.Enum):
    IDENTITY = "identity"
    SESSION = "session"
    BUCKET = "bucket"
    TRUST = "trust"


MAX_DOCUMENT_CHARS: Mapping[PolicyKind, int] = {
    PolicyKind.IDENTITY: 6144,  # RAM's limit for a custom policy
    PolicyKind.SESSION: 2048,
    PolicyKind.BUCKET: 16 * 1024,  # OSS's limit for a bucket policy
    PolicyKind.TRUST: 4096,
}
POLICY_VERSION = "1"
_ACTION = re.compile(r"^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"}
)


@dataclass(frozen=True)
class Statement:
    effect: Effect
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[str, ...] | None = None
    """None when the statement has no Principal element."""
    conditions: tuple[Condition, ...] = ()

    def covers_action(self, action: str) -> bool:
        if self.not_actions:
            return not any_matches(self.not_actions, action, ignore_case=True)
        return any_matches(self.actions, action, ignore_case=True)

    def covers_resource(self, resources: tuple[str, ...]) -> bool:
        if self.not_resources:
            return not any(any_matches(self.not_resources, r) for r in resources)
        if not self.resources:
            return True  # a trust policy names no resource
        return any(any_matches(self.resources, r) for r in resources)


@dataclass(frozen=True)
class Policy:
    kind: PolicyKind
    statements: tuple[Statement, ...]
    text: str
    """The document as it was given (GetBucketPolicy answers it verbatim)."""


@dataclass(frozen=True)
class AccessFacts:
    """What a statement is matched against."""

    action: str
    """``oss:GetObject``."""
    resources: tuple[str, ...]
    """The resource's ARN in each accepted spelling (any may match)."""
    facts: Mapping[str, str]
    """Condition key (lower case) -> the request's value."""


@dataclass(frozen=True)
class PrincipalNames:
    """The names a caller answers to in a ``Principal`` element."""

    names: frozenset[str]
    anonymous: bool = False
    owner_root: bool = False
    """The caller is the resource owner's own account (see the module docstring about ``*``)."""


def _invalid(message: str) -> OssError:
    return OssError("InvalidPolicyDocument", message)


def _strings(raw: object, name: str) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise _invalid(f"{name} must be a non-empty string or a list of non-empty strings.")
    return tuple(str(v) for v in values)


def _principals(raw: object) -> tuple[str, ...]:
    if isinstance(raw, dict):
        if not raw:
            raise _invalid("Principal must not be empty.")
        found: list[str] = []
        for kind, value in raw.items():
            found.extend(_strings(value, f"Principal/{kind}"))
        return tuple(found)
    return _strings(raw, "Principal")


def _statement(raw: object, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise _invalid("Every statement must be an object.")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise _invalid(f"Unknown statement element(s): {', '.join(sorted(unknown))}.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _invalid("Effect must be Allow or Deny.")
    if ("Action" in raw) == ("NotAction" in raw):
        raise _invalid("A statement needs exactly one of Action and NotAction.")
    actions = _strings(raw["Action"], "Action") if "Action" in raw else ()
    not_actions = _strings(raw["NotAction"], "NotAction") if "NotAction" in raw else ()
    for action in actions + not_actions:
        if not _ACTION.match(action):
            raise _invalid(f"{action!r} is not an action (service:Name, wildcards allowed).")
    resources = _strings(raw["Resource"], "Resource") if "Resource" in raw else ()
    not_resources = _strings(raw["NotResource"], "NotResource") if "NotResource" in raw else ()
    if resources and not_resources:
        raise _invalid("A statement may not have both Resource and NotResource.")
    if kind is not PolicyKind.TRUST and not (resources or not_resources):
        raise _invalid("A statement needs Resource or NotResource.")
    for resource in resources + not_resources:
        if resource != "*" and not resource.startswith("acs:"):
            raise _invalid(f"{resource!r} is not a resource (acs:oss:<region>:<account>:<bucket>/<key>).")
    principals: tuple[str, ...] | None = None
    if "Principal" in raw:
        if kind in (PolicyKind.IDENTITY, PolicyKind.SESSION):
            raise _invalid("A RAM policy has no Principal element (it applies to whoever it is attached to).")
        principals = _principals(raw["Principal"])
    elif kind is PolicyKind.TRUST:
        raise _invalid("A trust policy statement needs a Principal.")
    return Statement(
        effect=Effect(effect),
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        conditions=parse_conditions(raw.get("Condition")),
    )


def parse_policy(text: str, kind: PolicyKind) -> Policy:
    """Parse and validate a policy document; raises ``InvalidPolicyDocument``."""
    limit = MAX_DOCUMENT_CHARS[kind]
    if len(text) > limit:
        raise _invalid(f"The policy document exceeds {limit} characters.")
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"The policy document is not valid JSON: {exc}.") from None
    if not isinstance(raw, dict):
        raise _invalid("The policy document must be a JSON object.")
    unknown = set(raw) - {"Version", "Statement", "Id"}
    if unknown:
        raise _invalid(f"Unknown policy element(s): {', '.join(sorted(unknown))}.")
    version = raw.get("Version")
    if version != POLICY_VERSION:
        # OSS refuses the number 1 too: Version is the string "1".
        raise _invalid('Version must be the string "1".')
    statements = raw.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise _invalid("Statement must be a list of statements.")
    return Policy(kind, tuple(_statement(s, kind) for s in statements), text)


def _principal_applies(statement: Statement, caller: PrincipalNames | None) -> bool:
    if caller is None:  # identity and session policies: the statement is about its holder
        return True
    if statement.principals is None:
        # Kept as written, applied fail-closed: an Allow for no one, a Deny for everyone.
        return statement.effect is Effect.DENY
    for pattern in statement.principals:
        if pattern == "*":
            if not caller.owner_root or statement.conditions:
                return True
            continue
        if any(matches(pattern, name) for name in caller.names):
            return True
    return False


def evaluate(policy: Policy, access: AccessFacts, caller: PrincipalNames | None = None) -> Effect | None:
    """Deny if a matching statement denies, Allow if one allows, else None (implicit deny).

    ``caller`` is given for documents with a Principal element (bucket and trust policies).
    """
    decision: Effect | None = None
    for statement in policy.statements:
        if decision is Effect.ALLOW and statement.effect is Effect.ALLOW:
            continue  # only a Deny can still change the answer
        if not statement.covers_action(access.action):
            continue
        if not statement.covers_resource(access.resources):
            continue
        if not _principal_applies(statement, caller):
            continue
        if not all_hold(statement.conditions, access.facts):
            continue
        if statement.effect is Effect.DENY:
            return Effect.DENY
        decision = Effect.ALLOW
    return decision


def combine(decisions: list[Effect | None]) -> Effect | None:
    """Several documents together: any Deny wins, then any Allow."""
    if Effect.DENY in decisions:
        return Effect.DENY
    return Effect.ALLOW if Effect.ALLOW in decisions else None
