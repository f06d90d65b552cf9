"""The system policies Ferry knows by name (as RAM provides them): attach with ``--system``."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ferry.iam.policy import Policy, PolicyKind, parse_policy


def _document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


SYSTEM_POLICY_DOCUMENTS: Mapping[str, str] = {
    "AliyunOSSFullAccess": _document({"Effect": "Allow", "Action": "oss:*", "Resource": "*"}),
    "AliyunOSSReadOnlyAccess": _document(
        {"Effect": "Allow", "Action": ["oss:Get*", "oss:List*"], "Resource": "*"}
    ),
}

SYSTEM_POLICIES: Mapping[str, Policy] = {
    name: parse_policy(text, PolicyKind.IDENTITY) for name, text in SYSTEM_POLICY_DOCUMENTS.items()
}
