"""The request path's view of IAM in one region: who signed a request, what policies apply.

Changes made elsewhere (``ferry iam ...`` writes every region's store) are seen without a
restart: at most every ``refresh_seconds`` one request reads the store's generation counter (one
row) and, only when it moved, the view is rebuilt from the store.  So a revoked key or a changed
policy takes effect for requests that start a quarter of a second later, and the hot path reads
no table at all in between.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ferry.core.errors import OssError
from ferry.core.identity import Principal, ReplicaActor
from ferry.core.model import Bucket
from ferry.core.operations import Operation
from ferry.iam import sts
from ferry.iam.authorizer import (
    AccessCheck,
    Caller,
    ObjectAclLookup,
    RequestScope,
    authorize,
    authorize_replica_write,
)
from ferry.iam.crypto import SecretBox, derive_key
from ferry.iam.policy import Policy, PolicyKind, parse_policy
from ferry.iam.records import AccountRecord, BucketPolicyRecord, IamStore
from ferry.iam.view import BootstrapKey, IamView

DEFAULT_REFRESH_SECONDS = 0.25


@dataclass(frozen=True)
class Resolved:
    """A known access key: the secret to check the signature with, and who it stands for."""

    secret: str = field(repr=False)
    caller: Caller


@functools.lru_cache(maxsize=256)
def _session_policy(text: str) -> Policy:
    return parse_policy(text, PolicyKind.SESSION)


class IamDirectory:
    def __init__(
        self,
        store: IamStore,
        master_key: bytes,
        *,
        bootstrap: Iterable[BootstrapKey] = (),
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
    ) -> None:
        self._store = store
        self.box = SecretBox(derive_key(master_key, "secrets-at-rest"))
        self.sealer = sts.TokenSealer(derive_key(master_key, "sts-tokens"))
        self._bootstrap = tuple(bootstrap)
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._view = IamView(store.load(), self.box, self._bootstrap)
        self._checked_at = time.monotonic()

    # --- the current view ------------------------------------------------------------------

    def view(self) -> IamView:
        now = time.monotonic()
        if now - self._checked_at >= self._refresh_seconds:
            with self._lock:
                if now - self._checked_at >= self._refresh_seconds:
                    if self._store.generation() != self._view.generation:
                        self._view = IamView(self._store.load(), self.box, self._bootstrap)
                    self._checked_at = time.monotonic()
        return self._view

    def reload(self) -> None:
        """Rebuild the view now (after a write made in this process)."""
        with self._lock:
            self._view = IamView(self._store.load(), self.box, self._bootstrap)
            self._checked_at = time.monotonic()

    def ensure_account(self, account_id: str, name: str, created_at: float) -> None:
        if account_id not in self.view().accounts:
            self._store.put_account(AccountRecord(account_id, name, created_at))
            self.reload()

    # --- authentication --------------------------------------------------------------------

    def resolve(self, access_key_id: str, security_token: str | None, now: float) -> Resolved | None:
        """The key's secret and caller; None for an unknown key (``InvalidAccessKeyId``).

        STS keys need their token: a wrong or forged one is ``InvalidSecurityToken``, an expired
        one ``SecurityTokenExpired``; a session of a role deleted since (or recreated under the
        same name) is invalid too.
        """
        view = self.view()
        if not sts.is_sts_key(access_key_id):
            credential = view.credential(access_key_id)
            return None if credential is None else Resolved(credential.secret, Caller(credential.principal))
        if not security_token:
            return None  # an STS key id without its token is not a key OSS knows
        grant = self.sealer.open(security_token, access_key_id)
        if now >= grant.expires_at:
            raise sts.expired_token()
        role = view.role(grant.account_id, grant.role)
        if role is None or role.record.role_id != grant.role_id:
            raise sts.invalid_token()
        principal = Principal(
            account_id=grant.account_id,
            access_key_id=access_key_id,
            role=grant.role,
            session=grant.session_name,
        )
        policy = _session_policy(grant.session_policy) if grant.session_policy else None
        return Resolved(grant.secret, Caller(principal, policy))

    # --- authorization ---------------------------------------------------------------------

    def authorize(
        self,
        check: AccessCheck,
        caller: Caller,
        bucket: Bucket | None,
        scope: RequestScope,
        object_acl: ObjectAclLookup | None = None,
    ) -> None:
        authorize(check, caller, bucket, scope, self.view(), object_acl)

    def authorize_replica(
        self, actor: ReplicaActor, op: Operation, bucket: Bucket, key: str, scope: RequestScope
    ) -> None:
        authorize_replica_write(actor, op, bucket, key, scope, self.view())

    def replica_may_write(
        self, actor: ReplicaActor, bucket: Bucket, probe_keys: Iterable[str], scope: RequestScope
    ) -> bool:
        """Whether the rule's role could write every one of ``probe_keys`` (PutBucketReplication)."""
        try:
            for key in probe_keys:
                self.authorize_replica(actor, Operation.PutObject, bucket, key, scope)
        except OssError as exc:
            if exc.code != "AccessDenied":
                raise
            return False
        return True

    # --- bucket policies -------------------------------------------------------------------

    def put_bucket_policy(self, bucket: Bucket, document: str) -> None:
        parse_policy(document, PolicyKind.BUCKET)
        self._store.put_bucket_policy(BucketPolicyRecord(bucket.name, bucket.created_at, document))
        self.reload()

    def bucket_policy_document(self, bucket: Bucket) -> str:
        policy = self.view().bucket_policy(bucket)
        if policy is None:
            raise OssError("NoSuchBucketPolicy", BucketName=bucket.name)
        return policy.text

    def delete_bucket_policy(self, bucket_name: str) -> None:
        self._store.delete_bucket_policy(bucket_name)
        self.reload()
