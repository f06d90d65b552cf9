"""How a replicated change travels between regions: an object PUT or DELETE with Ferry headers.

Only Ferry's replication service identity may send these (``Access.SERVICE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from ferry.core.errors import OssError
from ferry.core.identity import ReplicaActor
from ferry.core.model import ChangeKind, ObjectAcl, ObjectType, ObjectVersion, StorageClass
from ferry.service.replicas import ReplicaAttrs
from ferry.storage.interfaces import ReplicaWrite

SEQ = "x-ferry-replica-seq"
VERSION_SEQ = "x-ferry-replica-version-seq"
SOURCE = "x-ferry-replica-source"
VERSION_ID = "x-ferry-replica-version-id"
ETAG = "x-ferry-replica-etag"
CRC64 = "x-ferry-replica-crc64"
OBJECT_TYPE = "x-ferry-replica-object-type"
KIND = "x-ferry-replica-kind"
TAGS = "x-ferry-replica-tagging"
ACCOUNT = "x-ferry-replica-account"
"""The source bucket's account: replication acts for it."""
ROLE = "x-ferry-replica-role"
"""The rule's SyncRole (a role of that account), which carries writes into another account."""
SIZE = "x-ferry-replica-size"
"""The object's size, on the completion of a replica upload (every part must be there)."""
UPLOAD_ID = "x-ferry-replica-upload-id"
"""A big object's replica upload (the answer of FerryInitiateReplicaUpload)."""
PARTS = "x-ferry-replica-parts"
"""The parts a reused replica upload holds already: ``number:size`` items, comma-separated."""


def encode_parts(parts: Mapping[int, int]) -> str:
    return ",".join(f"{number}:{size}" for number, size in sorted(parts.items()))


def decode_parts(value: str) -> dict[int, int]:
    parts: dict[int, int] = {}
    for item in filter(None, value.split(",")):
        number, _, size = item.partition(":")
        if number.isdigit() and size.isdigit():
            parts[int(number)] = int(size)
    return parts


def put_headers(version: ObjectVersion, origin: ReplicaWrite, versioned: bool) -> dict[str, str]:
    headers = {
        SEQ: str(origin.seq),
        VERSION_SEQ: str(origin.version_seq),
        SOURCE: origin.source,
        ETAG: version.etag,
        CRC64: version.crc64,
        OBJECT_TYPE: version.object_type.value,
        "x-oss-storage-class": version.storage_class.value,
        "x-oss-object-acl": version.acl.value,
        TAGS: urlencode(sorted(version.tags.items())),
    }
    if versioned:
        headers[VERSION_ID] = version.version_id
    headers.update(version.content_headers)
    for name, value in version.user_meta.items():
        headers[f"x-oss-meta-{name}"] = value
    return headers


def delete_headers(kind: ChangeKind, version_id: str | None, origin: ReplicaWrite) -> dict[str, str]:
    headers = {
        SEQ: str(origin.seq),
        VERSION_SEQ: str(origin.version_seq),
        SOURCE: origin.source,
        KIND: kind.value,
    }
    if version_id is not None:
        headers[VERSION_ID] = version_id
    return headers


def origin_of(headers: Mapping[str, str]) -> ReplicaWrite:
    seq, version_seq, source = headers.get(SEQ, ""), headers.get(VERSION_SEQ, "0"), headers.get(SOURCE, "")
    if not seq.isdigit() or not version_seq.isdigit() or not source:
        raise OssError(
            "InvalidArgument", f"{SEQ}, {VERSION_SEQ} and {SOURCE} are required on a replicated change."
        )
    return ReplicaWrite(source=source, seq=int(seq), version_seq=int(version_seq))


def attrs_of(
    headers: Mapping[str, str], content: Mapping[str, str], user_meta: Mapping[str, str]
) -> ReplicaAttrs:
    try:
        return ReplicaAttrs(
            etag=headers.get(ETAG, ""),
            crc64=headers.get(CRC64, ""),
            version_id=headers.get(VERSION_ID) or None,
            object_type=ObjectType(headers.get(OBJECT_TYPE, "Normal")),
            storage_class=StorageClass(headers.get("x-oss-storage-class", "Standard")),
            acl=ObjectAcl(headers.get("x-oss-object-acl", "default")),
            content_headers=content,
            user_meta=user_meta,
            tags=dict(parse_qsl(headers.get(TAGS, ""), keep_blank_values=True)),
        )
    except ValueError as exc:
        raise OssError("InvalidArgument", f"A replica header is not valid: {exc}.") from None


def kind_of(headers: Mapping[str, str]) -> ChangeKind:
    try:
        return ChangeKind(headers.get(KIND, ""))
    except ValueError:
        raise OssError("InvalidArgument", f"{KIND} is not valid.") from None


def actor_headers(actor: ReplicaActor) -> dict[str, str]:
    headers = {ACCOUNT: actor.account_id}
    if actor.role:
        headers[ROLE] = actor.role
    return headers


def actor_of(headers: Mapping[str, str]) -> ReplicaActor:
    account = headers.get(ACCOUNT)
    if not account:
        raise OssError("InvalidArgument", f"{ACCOUNT} is required on a replicated change.")
    return ReplicaActor(account, headers.get(ROLE) or None)
