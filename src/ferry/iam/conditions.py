"""The ``Condition`` block of a policy statement: operators, parsing, evaluation.

A block maps operators to ``{key: value-or-values}``.  Every operator of a block must hold, and
within one operator every key must hold (AND); a key holds when the request's value matches any
of the listed values (OR) -- for the negated operators (``StringNotEquals``, ``NotIpAddress`` ...)
when it matches none of them.  Keys are case-insensitive (``acs:SourceIp`` = ``acs:sourceip``).

A key the request does not have (``oss:Prefix`` on a GetObject) makes a positive operator false
and a negated one true, so ``Deny ... StringNotLike oss:Prefix`` cannot be side-stepped by
leaving the parameter out.  An unknown operator makes the policy invalid; an unknown key is
simply absent.

Keys Ferry fills in (see :func:`ferry.iam.authorizer.request_facts`): ``acs:SourceIp``,
``acs:SecureTransport``, ``acs:CurrentTime``, ``acs:UserAgent``, ``acs:AccessId``,
``oss:Prefix``, ``oss:Delimiter``, ``oss:MaxKeys`` (list operations) and ``oss:VersionId``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ferry.core.errors import OssError
from ferry.iam.wildcard import matches


@dataclass(frozen=True)
class Condition:
    operator: str
    """As written (``StringLike``); looked up case-insensitively."""
    key: str
    """Lower case."""
    values: tuple[str, ...]


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _in_network(value: str, network: str) -> bool:
    address = _ip(value)
    if address is None:
        return False
    net = ipaddress.ip_network(network.strip(), strict=False)
    return address.version == net.version and address in net


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _time(value: str) -> float | None:
    text = value.strip()
    if _number(text) is not None:
        return float(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


_Test = Callable[[str, str], bool]


def _compare(convert: Callable[[str], float | None], test: Callable[[float, float], bool]) -> _Test:
    def check(actual: str, expected: str) -> bool:
        a, e = convert(actual), convert(expected)
        return a is not None and e is not None and test(a, e)

    return check


# operator (lower case) -> (test of one request value against one policy value, negated)
_OPERATORS: dict[str, tuple[_Test, bool]] = {
    "stringequals": (lambda a, e: a == e, False),
    "stringnotequals": (lambda a, e: a == e, True),
    "stringequalsignorecase": (lambda a, e: a.lower() == e.lower(), False),
    "stringnotequalsignorecase": (lambda a, e: a.lower() == e.lower(), True),
    "stringlike": (lambda a, e: matches(e, a), False),
    "stringnotlike": (lambda a, e: matches(e, a), True),
    "numericequals": (_compare(_number, lambda a, e: a == e), False),
    "numericnotequals": (_compare(_number, lambda a, e: a == e), True),
    "numericlessthan": (_compare(_number, lambda a, e: a < e), False),
    "numericlessthanequals": (_compare(_number, lambda a, e: a <= e), False),
    "numericgreaterthan": (_compare(_number, lambda a, e: a > e), False),
    "numericgreaterthanequals": (_compare(_number, lambda a, e: a >= e), False),
    "dateequals": (_compare(_time, lambda a, e: a == e), False),
    "datenotequals": (_compare(_time, lambda a, e: a == e), True),
    "datelessthan": (_compare(_time, lambda a, e: a < e), False),
    "datelessthanequals": (_compare(_time, lambda a, e: a <= e), False),
    "dategreaterthan": (_compare(_time, lambda a, e: a > e), False),
    "dategreaterthanequals": (_compare(_time, lambda a, e: a >= e), False),
    "bool": (lambda a, e: a.lower() == e.lower(), False),
    "ipaddress": (_in_network, False),
    "notipaddress": (_in_network, True),
}


def _invalid(message: str) -> OssError:
    return OssError("InvalidPolicyDocument", message)


def _scalar(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _invalid(f"{where}: condition values must be strings, numbers or booleans.")


def parse_conditions(raw: object) -> tuple[Condition, ...]:
    """The ``Condition`` element of a statement (absent: ``None``)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _invalid("Condition must be an object.")
    parsed: list[Condition] = []
    for operator, block in raw.items():
        if not isinstance(operator, str) or operator.lower() not in _OPERATORS:
            raise _invalid(f"Unsupported condition operator {operator!r}.")
        if not isinstance(block, dict) or not block:
            raise _invalid(f"{operator} must map condition keys to values.")
        for key, raw_values in block.items():
            values_list = raw_values if isinstance(raw_values, list) else [raw_values]
            if not isinstance(key, str) or not key or not values_list:
                raise _invalid(f"{operator} needs a key and at least one value.")
            values = tuple(_scalar(v, f"{operator}/{key}") for v in values_list)
            if operator.lower() in ("ipaddress", "notipaddress"):
                for value in values:
                    try:
                        ipaddress.ip_network(value.strip(), strict=False)
                    except ValueError:
                        raise _invalid(f"{value!r} is not an IP address or CIDR range.") from None
            parsed.append(Condition(operator, key.lower(), values))
    return tuple(parsed)


def holds(condition: Condition, facts: Mapping[str, str]) -> bool:
    test, negated = _OPERATORS[condition.operator.lower()]
    actual = facts.get(condition.key)
    if actual is None:
        return negated
    hit = any(test(actual, expected) for expected in condition.values)
    return not hit if negated else hit


def all_hold(conditions: tuple[Condition, ...], facts: Mapping[str, str]) -> bool:
    return all(holds(c, facts) for c in conditions)
