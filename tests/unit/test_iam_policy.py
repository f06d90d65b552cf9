"""The RAM policy language: validation, wildcards, Deny over Allow, conditions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ferry.core.errors import OssError
from ferry.iam.conditions import Condition, holds
from ferry.iam.policy import (
    AccessFacts,
    Effect,
    PolicyKind,
    PrincipalNames,
    combine,
    evaluate,
    parse_policy,
)
from ferry.iam.wildcard import matches


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def access(action: str, resource: str, **facts: str) -> AccessFacts:
    return AccessFacts(action, (resource,), {k.lower(): v for k, v in facts.items()})


OBJ = "acs:oss:cn-hangzhou:123:bkt/docs/a.txt"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("oss:Get*", "oss:GetObject", True),
        ("oss:Get*", "oss:PutObject", False),
        ("oss:Get?bject", "oss:GetObject", True),
        ("acs:oss:*:*:bkt/docs/*", OBJ, True),
        ("acs:oss:*:*:bkt/docs*", "acs:oss:cn-hangzhou:123:bkt/docsx", True),
        ("acs:oss:*:*:bkt", "acs:oss:cn-hangzhou:123:bkt/k", False),
        ("acs:oss:*:*:bkt/a.b", "acs:oss:cn-hangzhou:123:bkt/aXb", False),  # '.' is literal
        ("*", "anything at all", True),
    ],
)
def test_wildcards(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_actions_match_case_insensitively_resources_do_not() -> None:
    policy = parse_policy(
        doc({"Effect": "Allow", "Action": "OSS:getobject", "Resource": "acs:oss:*:*:bkt/*"}),
        PolicyKind.IDENTITY,
    )
    assert evaluate(policy, access("oss:GetObject", OBJ)) is Effect.ALLOW
    assert evaluate(policy, access("oss:GetObject", "acs:oss:cn-hangzhou:123:BKT/docs/a.txt")) is None


def test_explicit_deny_beats_allow_whatever_the_order() -> None:
    allow = {"Effect": "Allow", "Action": "oss:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "oss:DeleteObject", "Resource": "acs:oss:*:*:bkt/docs/*"}
    for statements in ((allow, deny), (deny, allow)):
        policy = parse_policy(doc(*statements), PolicyKind.IDENTITY)
        assert evaluate(policy, access("oss:DeleteObject", OBJ)) is Effect.DENY
        assert evaluate(policy, access("oss:GetObject", OBJ)) is Effect.ALLOW
    assert combine([Effect.ALLOW, None, Effect.DENY]) is Effect.DENY
    assert combine([None, Effect.ALLOW]) is Effect.ALLOW
    assert combine([None, None]) is None


def test_no_matching_statement_is_an_implicit_deny() -> None:
    policy = parse_policy(
        doc({"Effect": "Allow", "Action": "oss:GetObject", "Resource": "acs:oss:*:*:other/*"}),
        PolicyKind.IDENTITY,
    )
    assert evaluate(policy, access("oss:GetObject", OBJ)) is None


def test_not_action_and_not_resource() -> None:
    policy = parse_policy(
        doc(
            {"Effect": "Allow", "NotAction": "oss:Delete*", "Resource": "*"},
            {"Effect": "Deny", "Action": "oss:*", "NotResource": "acs:oss:*:*:bkt/*"},
        ),
        PolicyKind.IDENTITY,
    )
    assert evaluate(policy, access("oss:GetObject", OBJ)) is Effect.ALLOW
    assert evaluate(policy, access("oss:DeleteObject", OBJ)) is None
    assert evaluate(policy, access("oss:GetObject", "acs:oss:cn-hangzhou:123:other/k")) is Effect.DENY


@pytest.mark.parametrize(
    ("document", "kind", "fragment"),
    [
        ('{"Version": 1, "Statement": []}', PolicyKind.BUCKET, "Version"),
        ('{"Version": "2", "Statement": []}', PolicyKind.IDENTITY, "Version"),
        ("[1, 2]", PolicyKind.IDENTITY, "object"),
        ("{", PolicyKind.IDENTITY, "JSON"),
        ('{"Version": "1", "Statement": [], "Extra": 1}', PolicyKind.IDENTITY, "Extra"),
        (doc({"Effect": "allow", "Action": "oss:*", "Resource": "*"}), PolicyKind.IDENTITY, "Effect"),
        (doc({"Effect": "Allow", "Resource": "*"}), PolicyKind.IDENTITY, "Action"),
        (doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}), PolicyKind.IDENTITY, "action"),
        (doc({"Effect": "Allow", "Action": "oss:*"}), PolicyKind.IDENTITY, "Resource"),
        (doc({"Effect": "Allow", "Action": "oss:*", "Resource": "bkt/*"}), PolicyKind.IDENTITY, "resource"),
        (
            doc({"Effect": "Allow", "Action": "oss:*", "Resource": "*", "Principal": "*"}),
            PolicyKind.IDENTITY,
            "Principal",
        ),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), PolicyKind.TRUST, "Principal"),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Action": "oss:*",
                    "Resource": "*",
                    "Condition": {"Sometimes": {"a": "b"}},
                }
            ),
            PolicyKind.IDENTITY,
            "operator",
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Action": "oss:*",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"acs:SourceIp": "300.1.1.1"}},
                }
            ),
            PolicyKind.IDENTITY,
            "IP",
        ),
        (
            doc({"Effect": "Allow", "Action": "oss:*", "Resource": "*", "Bogus": 1}),
            PolicyKind.IDENTITY,
            "Bogus",
        ),
        (
            doc({"Effect": "Allow", "Action": "oss:*", "Resource": "*", "NotResource": "*"}),
            PolicyKind.IDENTITY,
            "both",
        ),
        (doc({"Effect": "Allow", "Action": [], "Resource": "*"}), PolicyKind.IDENTITY, "Action"),
        (
            doc(*[{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}] * 200),
            PolicyKind.IDENTITY,
            "exceeds",
        ),
    ],
)
def test_invalid_documents(document: str, kind: PolicyKind, fragment: str) -> None:
    with pytest.raises(OssError) as error:
        parse_policy(document, kind)
    assert error.value.code == "InvalidPolicyDocument"
    assert fragment.lower() in error.value.message.lower()


def test_a_single_statement_object_and_sid_are_accepted() -> None:
    text = json.dumps(
        {"Version": "1", "Statement": {"Sid": "one", "Effect": "Allow", "Action": "oss:*", "Resource": "*"}}
    )
    assert len(parse_policy(text, PolicyKind.IDENTITY).statements) == 1


# --- principals (bucket policies) ------------------------------------------------------------------


def bucket_policy(effect: str, principal: Any, **extra: Any) -> Any:
    statement = {"Effect": effect, "Action": "oss:GetObject", "Resource": "acs:oss:*:*:bkt/*", **extra}
    if principal is not None:
        statement["Principal"] = principal
    return parse_policy(doc(statement), PolicyKind.BUCKET)


OWNER_ROOT = PrincipalNames(frozenset({"123", "acs:ram::123:root"}), owner_root=True)
OTHER_ROOT = PrincipalNames(frozenset({"456", "acs:ram::456:root"}))
ROLE_SESSION = PrincipalNames(frozenset({"acs:ram::456:role/sync", "arn:sts::456:assumed-role/sync/s1"}))
ANONYMOUS = PrincipalNames(frozenset(), anonymous=True)


def test_principal_star_is_everyone_but_not_the_owner_without_a_condition() -> None:
    policy = bucket_policy("Deny", "*")
    assert evaluate(policy, access("oss:GetObject", OBJ), ANONYMOUS) is Effect.DENY
    assert evaluate(policy, access("oss:GetObject", OBJ), OTHER_ROOT) is Effect.DENY
    assert evaluate(policy, access("oss:GetObject", OBJ), OWNER_ROOT) is None
    conditional = bucket_policy("Deny", ["*"], Condition={"Bool": {"acs:SecureTransport": "false"}})
    assert (
        evaluate(conditional, access("oss:GetObject", OBJ, **{"acs:SecureTransport": "false"}), OWNER_ROOT)
        is Effect.DENY
    )


def test_named_principals_and_wildcards() -> None:
    assert evaluate(bucket_policy("Allow", ["456"]), access("oss:GetObject", OBJ), OTHER_ROOT) is Effect.ALLOW
    assert evaluate(bucket_policy("Allow", ["456"]), access("oss:GetObject", OBJ), ROLE_SESSION) is None
    by_role = bucket_policy("Allow", {"RAM": ["acs:ram::456:role/sync"]})
    assert evaluate(by_role, access("oss:GetObject", OBJ), ROLE_SESSION) is Effect.ALLOW
    by_session = bucket_policy("Allow", ["arn:sts::456:assumed-role/sync/*"])
    assert evaluate(by_session, access("oss:GetObject", OBJ), ROLE_SESSION) is Effect.ALLOW
    assert evaluate(by_session, access("oss:GetObject", OBJ), ANONYMOUS) is None


def test_a_statement_without_principal_allows_no_one_and_denies_everyone() -> None:
    assert evaluate(bucket_policy("Allow", None), access("oss:GetObject", OBJ), OTHER_ROOT) is None
    assert evaluate(bucket_policy("Deny", None), access("oss:GetObject", OBJ), OTHER_ROOT) is Effect.DENY


# --- conditions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "key", "values", "facts", "expected"),
    [
        ("IpAddress", "acs:sourceip", ("192.168.0.0/16", "10.1.2.3"), {"acs:sourceip": "192.168.4.5"}, True),
        ("IpAddress", "acs:sourceip", ("192.168.0.0/16",), {"acs:sourceip": "10.0.0.1"}, False),
        ("IpAddress", "acs:sourceip", ("::1/128",), {"acs:sourceip": "127.0.0.1"}, False),
        ("IpAddress", "acs:sourceip", ("10.0.0.0/8",), {}, False),
        ("NotIpAddress", "acs:sourceip", ("10.0.0.0/8",), {"acs:sourceip": "127.0.0.1"}, True),
        ("NotIpAddress", "acs:sourceip", ("10.0.0.0/8",), {"acs:sourceip": "10.9.9.9"}, False),
        ("NotIpAddress", "acs:sourceip", ("10.0.0.0/8",), {}, True),
        ("Bool", "acs:securetransport", ("true",), {"acs:securetransport": "true"}, True),
        ("Bool", "acs:securetransport", ("True",), {"acs:securetransport": "false"}, False),
        ("StringLike", "oss:prefix", ("docs/*",), {"oss:prefix": "docs/2024/"}, True),
        ("StringLike", "oss:prefix", ("docs/*",), {}, False),
        ("StringNotLike", "oss:prefix", ("docs/*",), {}, True),
        ("StringEquals", "oss:delimiter", ("/",), {"oss:delimiter": "/"}, True),
        ("StringNotEquals", "oss:delimiter", ("/", "|"), {"oss:delimiter": "|"}, False),
        ("StringEqualsIgnoreCase", "acs:useragent", ("ABC",), {"acs:useragent": "abc"}, True),
        ("NumericLessThanEquals", "oss:maxkeys", ("100",), {"oss:maxkeys": "100"}, True),
        ("NumericGreaterThan", "oss:maxkeys", ("100",), {"oss:maxkeys": "99"}, False),
        ("NumericEquals", "oss:maxkeys", ("100",), {"oss:maxkeys": "lots"}, False),
        (
            "DateLessThan",
            "acs:currenttime",
            ("2030-01-01T00:00:00Z",),
            {"acs:currenttime": "2029-12-31T23:59:59Z"},
            True,
        ),
        (
            "DateGreaterThan",
            "acs:currenttime",
            ("2030-01-01T00:00:00Z",),
            {"acs:currenttime": "2029-12-31T23:59:59Z"},
            False,
        ),
    ],
)
def test_condition_operators(
    operator: str, key: str, values: tuple[str, ...], facts: dict[str, str], expected: bool
) -> None:
    assert holds(Condition(operator, key, values), facts) is expected


def test_every_condition_of_a_statement_must_hold_and_keys_are_case_insensitive() -> None:
    policy = parse_policy(
        doc(
            {
                "Effect": "Allow",
                "Action": "oss:ListObjects",
                "Resource": "*",
                "Condition": {
                    "IpAddress": {"acs:SourceIp": "127.0.0.0/8"},
                    "StringLike": {"OSS:Prefix": ["docs/*", "pub/*"]},
                },
            }
        ),
        PolicyKind.IDENTITY,
    )
    ok = access("oss:ListObjects", "acs:oss:x:1:bkt", **{"acs:sourceip": "127.0.0.1", "oss:prefix": "pub/a"})
    assert evaluate(policy, ok) is Effect.ALLOW
    wrong_ip = access(
        "oss:ListObjects", "acs:oss:x:1:bkt", **{"acs:sourceip": "8.8.8.8", "oss:prefix": "pub/a"}
    )
    assert evaluate(policy, wrong_ip) is None
    no_prefix = access("oss:ListObjects", "acs:oss:x:1:bkt", **{"acs:sourceip": "127.0.0.1"})
    assert evaluate(policy, no_prefix) is None
