"""Everything a request must pass before its handler runs: who signed it, which bucket, may it.

Cheap enough for the event loop: keys, buckets and IAM records are cached in memory (an IAM
generation check reads SQLite at most every 0.25 s), so :class:`FerryApp` calls
:meth:`Admission.admit` directly rather than paying a thread hop.
Every operation is authorized here through :meth:`IamDirectory.authorize`, on the resource it
acts on -- and on the other resources it touches: the copy source of CopyObject (``GetObject``)
and every key of DeleteMultipleObjects (``DeleteObject``, so a policy on ``bucket/prefix*``
works), whose body is read before admission for that reason.  Replicated writes from another
region are checked against the rule's SyncRole when they cross accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ferry.core.errors import OssError
from ferry.core.identity import Principal
from ferry.core.model import Bucket, ObjectAcl
from ferry.core.operations import Access, Level, Operation
from ferry.iam.authorizer import ANONYMOUS_CALLER, AccessCheck, Caller, RequestScope, request_facts
from ferry.protocol import replica_wire
from ferry.protocol.auth import authenticate, security_token_of
from ferry.protocol.documents import parse_delete_request
from ferry.protocol.handlers.objects import parse_copy_source
from ferry.protocol.signable import SignableRequest
from ferry.region import RegionRuntime
from ferry.service.iam_directory import Resolved

_EC_SIGNING_REGION = "0002-00000226"
_REPLICA_ACTIONS = {
    Operation.FerryPutReplica: Operation.PutObject,
    Operation.FerryDeleteReplica: Operation.DeleteObject,
    Operation.FerryInitiateReplicaUpload: Operation.PutObject,
    Operation.FerryUploadReplicaPart: Operation.PutObject,
    Operation.FerryCompleteReplicaUpload: Operation.PutObject,
}


@dataclass(frozen=True)
class Connection:
    """What the transport says about the client, for policy conditions."""

    client_ip: str | None
    secure: bool


class Admission:
    def __init__(self, runtime: RegionRuntime) -> None:
        self.rt = runtime
        name = runtime.config.name
        self._signing_regions = frozenset({name, name.removeprefix("oss-")})
        """The regions a V4 signature may name: ``cn-hangzhou`` (or Ferry's ``oss-cn-hangzhou``)."""

    def identify(self, signable: SignableRequest) -> Caller:
        """Verify the signature (V1/V4, header or presigned, with or without an STS token)."""
        now = self.rt.clock.now()
        token = security_token_of(signable)
        found: list[Resolved] = []

        def lookup(access_key_id: str) -> str | None:
            resolved = self.rt.iam.resolve(access_key_id, token, now)
            if resolved is None:
                return None
            found.append(resolved)
            return resolved.secret

        result = authenticate(signable, lookup, now)
        if result.region is not None and result.region not in self._signing_regions:
            raise OssError(
                "InvalidArgument", "Invalid signing region in Authorization header.", EC=_EC_SIGNING_REGION
            )
        if result.access_key_id is None:
            return ANONYMOUS_CALLER
        return found[-1].caller

    def admit(
        self,
        signable: SignableRequest,
        op: Operation,
        query: Mapping[str, str],
        connection: Connection,
        body: bytes | None = None,
    ) -> tuple[Principal, Bucket | None]:
        caller = self.identify(signable)
        principal = caller.principal
        facts = request_facts(
            source_ip=connection.client_ip,
            secure=connection.secure,
            now=self.rt.clock.now(),
            query=query,
            user_agent=signable.header("user-agent"),
            access_key_id=principal.access_key_id,
        )
        scope = RequestScope(self.rt.config.name, facts)
        iam = self.rt.iam
        name, key = signable.bucket, signable.key
        if op.level is Level.SERVICE or op is Operation.PutBucket or op.access is Access.SERVICE:
            iam.authorize(AccessCheck(op, name, key), caller, None, scope)
            # Region-to-region object calls find their bucket here too (None: the handler says so).
            found = self.rt.buckets.find(name) if op.level is Level.OBJECT and name else None
            replica_op = _REPLICA_ACTIONS.get(op)
            if replica_op is not None and found is not None and key is not None:
                actor = replica_wire.actor_of(signable.headers)
                iam.authorize_replica(actor, replica_op, found, key, scope)
            return principal, found
        assert name is not None
        bucket = self.rt.buckets.require(name)
        if op is Operation.DeleteMultipleObjects:
            # Authorized per key (DeleteObject on bucket/key), like OSS does.
            request = parse_delete_request(body or b"", query.get("encoding-type"))
            for target_key, version_id in request.targets:
                self._check(Operation.DeleteObject, caller, bucket, target_key, version_id, scope)
            return principal, bucket
        self._check(
            op, caller, bucket, key if op.level is Level.OBJECT else None, query.get("versionId"), scope
        )
        if op is Operation.CopyObject or op is Operation.UploadPartCopy:
            source_name, source_key, source_version = parse_copy_source(signable.headers["x-oss-copy-source"])
            source = bucket if source_name == bucket.name else self.rt.buckets.require(source_name)
            self._check(Operation.GetObject, caller, source, source_key, source_version, scope)
        return principal, bucket

    def _check(
        self,
        op: Operation,
        caller: Caller,
        bucket: Bucket,
        key: str | None,
        version_id: str | None,
        scope: RequestScope,
    ) -> None:
        object_acl: Callable[[], ObjectAcl | None] | None = None
        if key is not None and op.level is Level.OBJECT:

            def object_acl() -> ObjectAcl | None:
                return self.rt.objects.acl_of(bucket, key, version_id)

        self.rt.iam.authorize(AccessCheck(op, bucket.name, key), caller, bucket, scope, object_acl)
