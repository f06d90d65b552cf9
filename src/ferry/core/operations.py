"""The OSS operations Ferry serves, each with its RAM action and access kind.

The names are OSS's own API names, so ``oss:<name>`` is the action a policy
grants (with the few exceptions OSS documents, listed in ``action``).
"""

from __future__ import annotations

import enum


class Access(enum.Enum):
    READ = "read"
    """Allowed to anonymous callers by a public-read or public-read-write ACL."""
    WRITE = "write"
    """Allowed to anonymous callers by a public-read-write ACL."""
    OWNER = "owner"
    """Only the owner (or a principal a policy allows)."""
    SERVICE = "service"
    """Only Ferry's own replication service identity (region-to-region calls)."""
    PUBLIC = "public"
    """Anyone: the operation decides itself what it reveals (CORS preflight)."""


class Level(enum.Enum):
    SERVICE = "service"
    BUCKET = "bucket"
    OBJECT = "object"


class Operation(enum.Enum):
    # value: (name, level, access, RAM action or None to use the name); the name keeps values unique
    ListBuckets = ("ListBuckets", Level.SERVICE, Access.OWNER, None)
    PutBucket = ("PutBucket", Level.BUCKET, Access.OWNER, None)
    DeleteBucket = ("DeleteBucket", Level.BUCKET, Access.OWNER, None)
    HeadBucket = ("HeadBucket", Level.BUCKET, Access.READ, "GetBucketInfo")
    GetBucketInfo = ("GetBucketInfo", Level.BUCKET, Access.OWNER, None)
    GetBucketLocation = ("GetBucketLocation", Level.BUCKET, Access.OWNER, None)
    GetBucketStat = ("GetBucketStat", Level.BUCKET, Access.OWNER, None)
    PutBucketAcl = ("PutBucketAcl", Level.BUCKET, Access.OWNER, None)
    GetBucketAcl = ("GetBucketAcl", Level.BUCKET, Access.OWNER, None)
    PutBucketVersioning = ("PutBucketVersioning", Level.BUCKET, Access.OWNER, None)
    GetBucketVersioning = ("GetBucketVersioning", Level.BUCKET, Access.OWNER, None)
    ListObjects = ("ListObjects", Level.BUCKET, Access.READ, None)
    ListObjectsV2 = ("ListObjectsV2", Level.BUCKET, Access.READ, "ListObjects")
    ListObjectVersions = ("ListObjectVersions", Level.BUCKET, Access.READ, None)
    ListMultipartUploads = ("ListMultipartUploads", Level.BUCKET, Access.READ, None)
    ListLiveChannel = ("ListLiveChannel", Level.BUCKET, Access.OWNER, None)
    DeleteMultipleObjects = ("DeleteMultipleObjects", Level.BUCKET, Access.WRITE, "DeleteObject")
    PutBucketReplication = ("PutBucketReplication", Level.BUCKET, Access.OWNER, None)
    GetBucketReplication = ("GetBucketReplication", Level.BUCKET, Access.OWNER, None)
    DeleteBucketReplication = ("DeleteBucketReplication", Level.BUCKET, Access.OWNER, None)
    PutBucketRtc = ("PutBucketRtc", Level.BUCKET, Access.OWNER, None)
    GetBucketReplicationLocation = ("GetBucketReplicationLocation", Level.BUCKET, Access.OWNER, None)
    GetBucketReplicationProgress = ("GetBucketReplicationProgress", Level.BUCKET, Access.OWNER, None)
    PutBucketPolicy = ("PutBucketPolicy", Level.BUCKET, Access.OWNER, None)
    GetBucketPolicy = ("GetBucketPolicy", Level.BUCKET, Access.OWNER, None)
    DeleteBucketPolicy = ("DeleteBucketPolicy", Level.BUCKET, Access.OWNER, None)
    FerryDescribeReplicationTarget = ("FerryDescribeReplicationTarget", Level.BUCKET, Access.SERVICE, None)
    FerryRegisterIncomingRule = ("FerryRegisterIncomingRule", Level.BUCKET, Access.SERVICE, None)
    FerryWithdrawIncomingRule = ("FerryWithdrawIncomingRule", Level.BUCKET, Access.SERVICE, None)
    FerryCheckReplicationRole = ("FerryCheckReplicationRole", Level.BUCKET, Access.SERVICE, None)
    FerryPutReplica = ("FerryPutReplica", Level.OBJECT, Access.SERVICE, None)
    FerryPutReplicaBatch = ("FerryPutReplicaBatch", Level.BUCKET, Access.SERVICE, None)
    FerryDeleteReplica = ("FerryDeleteReplica", Level.OBJECT, Access.SERVICE, None)
    FerryInitiateReplicaUpload = ("FerryInitiateReplicaUpload", Level.OBJECT, Access.SERVICE, None)
    FerryUploadReplicaPart = ("FerryUploadReplicaPart", Level.OBJECT, Access.SERVICE, None)
    FerryCompleteReplicaUpload = ("FerryCompleteReplicaUpload", Level.OBJECT, Access.SERVICE, None)
    PutObject = ("PutObject", Level.OBJECT, Access.WRITE, None)
    CopyObject = ("CopyObject", Level.OBJECT, Access.WRITE, "PutObject")
    GetObject = ("GetObject", Level.OBJECT, Access.READ, None)
    HeadObject = ("HeadObject", Level.OBJECT, Access.READ, "GetObject")
    GetObjectMeta = ("GetObjectMeta", Level.OBJECT, Access.READ, "GetObject")
    DeleteObject = ("DeleteObject", Level.OBJECT, Access.WRITE, None)
    PutObjectTagging = ("PutObjectTagging", Level.OBJECT, Access.OWNER, None)
    GetObjectTagging = ("GetObjectTagging", Level.OBJECT, Access.OWNER, None)
    DeleteObjectTagging = ("DeleteObjectTagging", Level.OBJECT, Access.OWNER, None)
    PutObjectAcl = ("PutObjectAcl", Level.OBJECT, Access.OWNER, None)
    GetObjectAcl = ("GetObjectAcl", Level.OBJECT, Access.OWNER, None)
    InitiateMultipartUpload = ("InitiateMultipartUpload", Level.OBJECT, Access.WRITE, "PutObject")
    UploadPart = ("UploadPart", Level.OBJECT, Access.WRITE, "PutObject")
    UploadPartCopy = ("UploadPartCopy", Level.OBJECT, Access.WRITE, "PutObject")
    CompleteMultipartUpload = ("CompleteMultipartUpload", Level.OBJECT, Access.WRITE, "PutObject")
    AbortMultipartUpload = ("AbortMultipartUpload", Level.OBJECT, Access.WRITE, None)
    ListParts = ("ListParts", Level.OBJECT, Access.WRITE, None)
    AppendObject = ("AppendObject", Level.OBJECT, Access.WRITE, "PutObject")
    PutSymlink = ("PutSymlink", Level.OBJECT, Access.WRITE, "PutObject")
    GetSymlink = ("GetSymlink", Level.OBJECT, Access.READ, "GetObject")
    RestoreObject = ("RestoreObject", Level.OBJECT, Access.WRITE, None)
    # --- bucket configurations ----------------------------------------------
    PutBucketCors = ("PutBucketCors", Level.BUCKET, Access.OWNER, None)
    GetBucketCors = ("GetBucketCors", Level.BUCKET, Access.OWNER, None)
    DeleteBucketCors = ("DeleteBucketCors", Level.BUCKET, Access.OWNER, None)
    PutBucketLifecycle = ("PutBucketLifecycle", Level.BUCKET, Access.OWNER, None)
    GetBucketLifecycle = ("GetBucketLifecycle", Level.BUCKET, Access.OWNER, None)
    DeleteBucketLifecycle = ("DeleteBucketLifecycle", Level.BUCKET, Access.OWNER, None)
    PutBucketReferer = ("PutBucketReferer", Level.BUCKET, Access.OWNER, None)
    GetBucketReferer = ("GetBucketReferer", Level.BUCKET, Access.OWNER, None)
    PutBucketWebsite = ("PutBucketWebsite", Level.BUCKET, Access.OWNER, None)
    GetBucketWebsite = ("GetBucketWebsite", Level.BUCKET, Access.OWNER, None)
    DeleteBucketWebsite = ("DeleteBucketWebsite", Level.BUCKET, Access.OWNER, None)
    PutBucketLogging = ("PutBucketLogging", Level.BUCKET, Access.OWNER, None)
    GetBucketLogging = ("GetBucketLogging", Level.BUCKET, Access.OWNER, None)
    DeleteBucketLogging = ("DeleteBucketLogging", Level.BUCKET, Access.OWNER, None)
    PutBucketTags = ("PutBucketTags", Level.BUCKET, Access.OWNER, "PutBucketTagging")
    GetBucketTags = ("GetBucketTags", Level.BUCKET, Access.OWNER, "GetBucketTagging")
    DeleteBucketTags = ("DeleteBucketTags", Level.BUCKET, Access.OWNER, "DeleteBucketTagging")
    PutBucketEncryption = ("PutBucketEncryption", Level.BUCKET, Access.OWNER, None)
    GetBucketEncryption = ("GetBucketEncryption", Level.BUCKET, Access.OWNER, None)
    DeleteBucketEncryption = ("DeleteBucketEncryption", Level.BUCKET, Access.OWNER, None)
    PutBucketRequestPayment = ("PutBucketRequestPayment", Level.BUCKET, Access.OWNER, None)
    GetBucketRequestPayment = ("GetBucketRequestPayment", Level.BUCKET, Access.OWNER, None)
    PutBucketPublicAccessBlock = ("PutBucketPublicAccessBlock", Level.BUCKET, Access.OWNER, None)
    GetBucketPublicAccessBlock = ("GetBucketPublicAccessBlock", Level.BUCKET, Access.OWNER, None)
    DeleteBucketPublicAccessBlock = ("DeleteBucketPublicAccessBlock", Level.BUCKET, Access.OWNER, None)
    PutPublicAccessBlock = ("PutPublicAccessBlock", Level.SERVICE, Access.OWNER, None)
    GetPublicAccessBlock = ("GetPublicAccessBlock", Level.SERVICE, Access.OWNER, None)
    DeletePublicAccessBlock = ("DeletePublicAccessBlock", Level.SERVICE, Access.OWNER, None)
    PutBucketStorageCapacity = ("PutBucketStorageCapacity", Level.BUCKET, Access.OWNER, None)
    GetBucketStorageCapacity = ("GetBucketStorageCapacity", Level.BUCKET, Access.OWNER, None)
    InitiateBucketWorm = ("InitiateBucketWorm", Level.BUCKET, Access.OWNER, None)
    AbortBucketWorm = ("AbortBucketWorm", Level.BUCKET, Access.OWNER, None)
    CompleteBucketWorm = ("CompleteBucketWorm", Level.BUCKET, Access.OWNER, None)
    ExtendBucketWorm = ("ExtendBucketWorm", Level.BUCKET, Access.OWNER, None)
    GetBucketWorm = ("GetBucketWorm", Level.BUCKET, Access.OWNER, None)
    OptionObject = ("OptionObject", Level.OBJECT, Access.PUBLIC, None)
    """A CORS preflight (``OPTIONS``): answered from the bucket's CORS rules, signed or not."""
    OptionBucket = ("OptionBucket", Level.BUCKET, Access.PUBLIC, "OptionObject")

    def __init__(self, api: str, level: Level, access: Access, action: str | None) -> None:
        # Plain attributes: every request reads them several times, and an enum's ``value``
        # is a descriptor lookup each time.
        self.level: Level = level
        self.access: Access = access
        self.action: str = "oss:" + (action or api)
