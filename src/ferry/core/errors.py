"""The one error type of Ferry and the one table of OSS error codes.

Every layer raises :class:`OssError`; only the protocol edge turns it into the
OSS error XML.  The HTTP status comes from :data:`ERROR_TABLE`, never from the
raiser, so a code always answers with the same status wherever it is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    message: str
    ec: str = ""
    """OSS's detailed error code (``x-oss-ec`` and ``<EC>``) when the code has a single one."""


ERROR_TABLE: Mapping[str, ErrorSpec] = {
    # --- request shape -------------------------------------------------
    "InvalidArgument": ErrorSpec(400, "The argument is invalid."),
    "MissingArgument": ErrorSpec(400, "A required argument is missing."),
    "InvalidDigest": ErrorSpec(400, "The Content-MD5 you specified is not valid."),
    "BadDigest": ErrorSpec(400, "The Content-MD5 you specified did not match what was received."),
    "MalformedXML": ErrorSpec(400, "The XML you provided was not well-formed."),
    "InvalidRange": ErrorSpec(416, "The requested range cannot be satisfied."),
    "EntityTooLarge": ErrorSpec(400, "Your proposed upload exceeds the maximum allowed size."),
    "EntityTooSmall": ErrorSpec(400, "Your proposed upload is smaller than the minimum allowed size."),
    "MissingContentLength": ErrorSpec(411, "You must provide the Content-Length HTTP header."),
    "InvalidObjectName": ErrorSpec(400, "The specified object name is not valid."),
    "InvalidBucketName": ErrorSpec(400, "The specified bucket is not valid."),
    "InvalidEncryptionAlgorithmError": ErrorSpec(400, "The encryption algorithm is not valid."),
    "TooManyBuckets": ErrorSpec(400, "You have attempted to create more buckets than allowed."),
    "MethodNotAllowed": ErrorSpec(405, "The specified method is not allowed against this resource."),
    "NotImplemented": ErrorSpec(501, "A header or operation you provided is not implemented."),
    "InvalidRequest": ErrorSpec(400, "The request is not valid."),
    "InvalidPart": ErrorSpec(400, "One or more of the specified parts could not be found."),
    "InvalidPartOrder": ErrorSpec(400, "The list of parts was not in ascending order."),
    # --- authentication and authorisation -----------------------------
    "AccessDenied": ErrorSpec(403, "Access denied."),
    "InvalidAccessKeyId": ErrorSpec(403, "The OSS Access Key Id you provided does not exist in our records."),
    "SignatureDoesNotMatch": ErrorSpec(
        403, "The request signature we calculated does not match the signature you provided."
    ),
    "RequestTimeTooSkewed": ErrorSpec(
        403, "The difference between the request time and the current time is too large."
    ),
    "InvalidSecurityToken": ErrorSpec(403, "The security token you provided is invalid."),
    "SecurityTokenExpired": ErrorSpec(403, "The security token you provided has expired."),
    # --- policies and RAM administration --------------------------------
    "InvalidPolicyDocument": ErrorSpec(400, "The policy document is not valid."),
    "NoSuchBucketPolicy": ErrorSpec(404, "The bucket policy does not exist."),
    "EntityAlreadyExists": ErrorSpec(409, "The specified RAM entity already exists."),
    "EntityNotExist": ErrorSpec(404, "The specified RAM entity does not exist."),
    # --- buckets -------------------------------------------------------
    "NoSuchBucket": ErrorSpec(404, "The specified bucket does not exist."),
    "BucketAlreadyExists": ErrorSpec(409, "The requested bucket name is not available."),
    "BucketNotEmpty": ErrorSpec(409, "The bucket you tried to delete is not empty."),
    # --- objects -------------------------------------------------------
    "NoSuchKey": ErrorSpec(404, "The specified key does not exist.", ec="0026-00000001"),
    "NoSuchVersion": ErrorSpec(404, "The specified version does not exist."),
    "NoSuchUpload": ErrorSpec(404, "The specified upload does not exist."),
    "FileAlreadyExists": ErrorSpec(
        409, "The object you specified already exists and can not be overwritten."
    ),
    "PreconditionFailed": ErrorSpec(412, "At least one of the pre-conditions you specified did not hold."),
    "NotModified": ErrorSpec(304, "Not Modified."),
    "ObjectNotAppendable": ErrorSpec(409, "The operation is not valid for the object's type."),
    "PositionNotEqualToLength": ErrorSpec(409, "Position is not equal to file length."),
    "PartNotSequential": ErrorSpec(400, "The parts of a sequential upload must be uploaded in order."),
    "NotSymlink": ErrorSpec(400, "The specified object is not a symlink."),
    "InvalidTargetType": ErrorSpec(400, "The symlink's target is a symlink."),
    "InvalidObjectState": ErrorSpec(403, "The operation is not valid for the object's state."),
    "OperationNotSupported": ErrorSpec(400, "The operation is not supported for this resource."),
    "RestoreAlreadyInProgress": ErrorSpec(409, "The restore operation is in progress."),
    # --- replication (PutBucketReplication and friends) -----------------
    "InvalidTargetBucket": ErrorSpec(400, "The target bucket is not valid."),
    "InvalidTargetLocation": ErrorSpec(
        400, "The region of the target bucket differs from the Location in the request."
    ),
    "BucketReplicationAlreadyExist": ErrorSpec(
        400, "A replication rule between the source and the target bucket already exists."
    ),
    "BadReplicationLocation": ErrorSpec(400, "The target location is not valid for replication."),
    "NoReplicationLocation": ErrorSpec(400, "The source region has no region it can replicate to."),
    "TooManyReplicationRules": ErrorSpec(400, "Only one replication rule can be set in a request."),
    "TooManyIncomingReplication": ErrorSpec(
        400, "The target bucket has too many incoming replication rules."
    ),
    "TooManyOutgoingReplication": ErrorSpec(
        400, "The source bucket has too many outgoing replication rules."
    ),
    "ReplicationLocationNotSupportRtc": ErrorSpec(400, "RTC is not supported towards this location."),
    "NoSuchReplicationConfiguration": ErrorSpec(
        404, "The specified bucket does not have a replication configuration."
    ),
    "NoSuchReplicationRule": ErrorSpec(404, "The specified replication rule does not exist."),
    "ReplicationConflict": ErrorSpec(
        409, "Versioning cannot be changed while the bucket has replication rules."
    ),
    # --- bucket configurations ------------------------------------------
    "NoSuchCORSConfiguration": ErrorSpec(404, "The CORS configuration does not exist."),
    "NoSuchLifecycle": ErrorSpec(404, "No Row found in Lifecycle Table."),
    "NoSuchWebsiteConfiguration": ErrorSpec(
        404, "The specified bucket does not have a website configuration."
    ),
    "NoSuchServerSideEncryptionRule": ErrorSpec(
        404, "The server side encryption configuration was not found."
    ),
    "InvalidTargetBucketForLogging": ErrorSpec(400, "The target bucket for logging is not valid."),
    "AccessForbidden": ErrorSpec(403, "CORSResponse: This CORS request is not allowed."),
    "BadRequest": ErrorSpec(400, "Insufficient information for a CORS preflight request."),
    "NoSuchWORMConfiguration": ErrorSpec(404, "The WORM configuration does not exist."),
    "WORMConfigurationLocked": ErrorSpec(403, "The WORM configuration is locked."),
    "InvalidWORMConfiguration": ErrorSpec(400, "The WORM configuration is not valid."),
    "InsufficientStorageSpace": ErrorSpec(403, "The bucket's storage capacity would be exceeded."),
    "NoSuchAccessPoint": ErrorSpec(404, "Accesspoint not found"),
    "FileImmutable": ErrorSpec(409, "The object is protected by the bucket's retention policy."),
    # --- server --------------------------------------------------------
    "InternalError": ErrorSpec(500, "We encountered an internal error. Please try again."),
    "ServiceUnavailable": ErrorSpec(503, "Please reduce your request rate."),
}


class OssError(Exception):
    """An error as OSS reports it: a code from the table, a message and details.

    ``details`` become extra children of the ``<Error>`` document (for example
    ``BucketName`` or ``Key``), in the order given.
    """

    def __init__(self, code: str, message: str | None = None, **details: str) -> None:
        spec = ERROR_TABLE.get(code)
        if spec is None:
            raise KeyError(f"OSS error code {code!r} is not in ERROR_TABLE")
        self.code = code
        self.status = spec.status
        self.message = message if message is not None else spec.message
        self.details: dict[str, str] = dict(details)
        if spec.ec and "EC" not in self.details:
            self.details["EC"] = spec.ec
        self.headers: list[tuple[str, str]] = []
        """Extra response headers (e.g. ``x-oss-delete-marker`` on a NoSuchKey)."""
        super().__init__(f"{code}: {self.message}")
