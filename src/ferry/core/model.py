"""Domain records of buckets and object versions.

Plain frozen values: the storage adapters persist them, the services reason
about them, the protocol edge renders them.  Nothing here knows about HTTP.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from ferry.core.encryption import Encryption

NULL_VERSION = "null"
"""The version id of an object written while versioning was never enabled or is suspended."""


class Versioning(enum.StrEnum):
    OFF = ""
    ENABLED = "Enabled"
    SUSPENDED = "Suspended"


class BucketAcl(enum.StrEnum):
    PRIVATE = "private"
    PUBLIC_READ = "public-read"
    PUBLIC_READ_WRITE = "public-read-write"


class ObjectAcl(enum.StrEnum):
    DEFAULT = "default"
    PRIVATE = "private"
    PUBLIC_READ = "public-read"
    PUBLIC_READ_WRITE = "public-read-write"


class StorageClass(enum.StrEnum):
    STANDARD = "Standard"
    IA = "IA"
    ARCHIVE = "Archive"
    COLD_ARCHIVE = "ColdArchive"
    DEEP_COLD_ARCHIVE = "DeepColdArchive"


class ObjectType(enum.StrEnum):
    NORMAL = "Normal"
    MULTIPART = "Multipart"
    APPENDABLE = "Appendable"
    SYMLINK = "Symlink"


class ReplicationState(enum.StrEnum):
    NONE = ""
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REPLICA = "REPLICA"


@dataclass(frozen=True)
class Bucket:
    name: str
    owner_id: str
    region: str
    created_at: float
    acl: BucketAcl = BucketAcl.PRIVATE
    storage_class: StorageClass = StorageClass.STANDARD
    versioning: Versioning = Versioning.OFF
    data_redundancy: str = "LRS"


CONTENT_HEADERS = (
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
)
"""Standard headers stored with an object and returned on GET/HEAD."""


@dataclass(frozen=True)
class ObjectVersion:
    """One version of one object (or a delete marker) as stored in the metadata store."""

    bucket: str
    key: str
    version_id: str
    seq: int
    """Monotonic per-region sequence of the commit: orders changes of a key."""
    created_at: float
    is_latest: bool
    is_delete_marker: bool
    size: int = 0
    etag: str = ""
    """Without quotes: upper-case MD5 hex, or the multipart form."""
    crc64: str = ""
    """Decimal string of the CRC-64/ECMA of the bytes, as OSS reports it."""
    blob_id: str = ""
    content_headers: Mapping[str, str] = field(default_factory=dict)
    user_meta: Mapping[str, str] = field(default_factory=dict)
    acl: ObjectAcl = ObjectAcl.DEFAULT
    storage_class: StorageClass = StorageClass.STANDARD
    object_type: ObjectType = ObjectType.NORMAL
    tags: Mapping[str, str] = field(default_factory=dict)
    replication: ReplicationState = ReplicationState.NONE
    owner_id: str = ""
    encryption: Encryption | None = None
    """How the stored bytes are encrypted at rest (server-side encryption); None: not encrypted."""


@dataclass(frozen=True)
class StagedBlob:
    """Bytes already written durably to the blob store but not yet referenced by metadata."""

    blob_id: str
    size: int
    md5_hex: str
    crc64: int
    inline: bytes | None = None
    """The bytes themselves when the blob is inline: they commit with the version's metadata."""


class ChangeKind(enum.StrEnum):
    PUT = "put"
    """A new version, an overwrite, or a metadata change (ACL, tags) of a version."""
    DELETE_MARKER = "delete_marker"
    DELETE = "delete"
    """An object removed from an unversioned bucket."""
    DELETE_VERSION = "delete_version"
    """One version removed for good by its version id."""


@dataclass(frozen=True)
class ObjectChange:
    """What a committed mutation did, as the replication outbox sees it."""

    kind: ChangeKind
    version: ObjectVersion
    """The version written, or the version removed."""
    at: float
    replica: bool = False
    """The change was made by replication itself: it is never replicated again."""
    metadata_only: bool = False
    """An existing version's metadata (ACL, tags) changed; its bytes did not."""
