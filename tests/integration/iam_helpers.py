"""A small vocabulary for IAM scenarios: RAM users with a policy, STS sessions, their SDK clients.

Administration goes through the same code as ``ferry iam ...`` (:func:`ferry.iam_cli.admin_for`),
in-process, against the running cluster's stores; the servers see changes within their refresh
interval, hence :func:`settle`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import oss2

from ferry.config import load_config
from ferry.iam.records import TargetKind
from ferry.iam_cli import account_id_of, admin_for
from ferry.service.iam_admin import IamAdmin
from ferry.service.iam_directory import DEFAULT_REFRESH_SECONDS
from tests.integration.harness import REGIONS, FerryCluster

SETTLE_SECONDS = DEFAULT_REFRESH_SECONDS + 0.15


def settle() -> None:
    """Wait until every region has seen the last IAM change (one refresh interval, and a margin)."""
    time.sleep(SETTLE_SECONDS)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(actions: list[str] | str, resources: list[str] | str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def deny(actions: list[str] | str, resources: list[str] | str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources, **extra}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Creds:
    access_key_id: str
    secret: str
    security_token: str | None = None
    user_name: str | None = None
    """The RAM user (whose one policy has the same name), for keys made by :meth:`Iam.user`."""

    def oss2_auth(self, *, v4: bool = False) -> oss2.ProviderAuth | oss2.ProviderAuthV4:
        provider = oss2.credentials.StaticCredentialsProvider(
            self.access_key_id, self.secret, self.security_token or ""
        )
        return oss2.ProviderAuthV4(provider) if v4 else oss2.ProviderAuth(provider)

    def bucket(
        self, cluster: FerryCluster, name: str, *, v4: bool = False, region: str = REGIONS[0]
    ) -> oss2.Bucket:
        r = cluster.region(region)
        return oss2.Bucket(self.oss2_auth(v4=v4), r.endpoint, name, region=r.short if v4 else None)

    def service(self, cluster: FerryCluster, *, region: str = REGIONS[0]) -> oss2.Service:
        return oss2.Service(self.oss2_auth(), cluster.region(region).endpoint)

    def v2_client(self, cluster: FerryCluster, *, region: str = REGIONS[0], v1: bool = False):  # type: ignore[no-untyped-def]
        import alibabacloud_oss_v2 as oss

        r = cluster.region(region)
        cfg = oss.config.load_default()
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
            self.access_key_id, self.secret, self.security_token
        )
        cfg.region = r.short
        cfg.endpoint = r.endpoint
        if v1:
            cfg.signature_version = "v1"
        return oss.Client(cfg)


@dataclass
class Iam:
    cluster: FerryCluster
    admin: IamAdmin
    account: str
    """The default account (whose owner key is the harness's root key)."""

    @classmethod
    def of(cls, cluster: FerryCluster) -> Iam:
        config = load_config(cluster.config_path)
        admin = admin_for(config)
        return cls(cluster, admin, account_id_of(admin, config, None))

    def user(self, *statements: dict[str, Any], account: str | None = None, wait: bool = True) -> Creds:
        """A new RAM user whose only policy has ``statements``, and a key of it."""
        account = account or self.account
        name = unique("user")
        self.admin.create_user(account, name)
        if statements:
            self.admin.put_policy(account, name, document(*statements), create=True)
            self.admin.attach(account, name, system=False, kind=TargetKind.USER, target=name)
        key = self.admin.create_key(account, name)
        if wait:
            settle()
        return Creds(key.access_key_id, key.secret, user_name=name)

    def role(self, name: str, *statements: dict[str, Any], account: str | None = None) -> str:
        """A role (trusting Ferry's replication service and its account) with one policy."""
        account = account or self.account
        self.admin.create_role(account, name)
        self.admin.put_policy(account, f"{name}-policy", document(*statements), create=True)
        self.admin.attach(account, f"{name}-policy", system=False, kind=TargetKind.ROLE, target=name)
        return name

    def session(self, role: str, *, account: str | None = None, **kwargs: Any) -> Creds:
        issued = self.admin.assume_role(account or self.account, role, **kwargs)
        return Creds(issued.grant.access_key_id, issued.grant.secret, issued.security_token)
