"""The dispatch table: one handler per operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ferry.core.operations import Operation
from ferry.protocol.handlers import (
    append,
    bucket,
    bucket_config,
    cors,
    multipart,
    objects,
    policy,
    replication,
    restore,
    symlinks,
    website,
    worm,
)
from ferry.protocol.http import RequestContext, Response
from ferry.region import RegionRuntime

Handler = Callable[[RequestContext, RegionRuntime], Awaitable[Response]]

HANDLERS: dict[Operation, Handler] = {
    Operation.ListBuckets: bucket.list_buckets,
    Operation.PutBucket: bucket.put_bucket,
    Operation.DeleteBucket: bucket.delete_bucket,
    Operation.HeadBucket: bucket.head_bucket,
    Operation.GetBucketInfo: bucket.get_bucket_info,
    Operation.GetBucketLocation: bucket.get_bucket_location,
    Operation.GetBucketStat: bucket.get_bucket_stat,
    Operation.PutBucketAcl: bucket.put_bucket_acl,
    Operation.GetBucketAcl: bucket.get_bucket_acl,
    Operation.PutBucketVersioning: bucket.put_bucket_versioning,
    Operation.GetBucketVersioning: bucket.get_bucket_versioning,
    Operation.ListObjects: bucket.list_objects_any,
    Operation.ListObjectsV2: bucket.list_objects_any,
    Operation.ListLiveChannel: bucket.list_live_channels,
    Operation.ListMultipartUploads: multipart.list_multipart_uploads,
    Operation.ListObjectVersions: bucket.list_object_versions,
    Operation.DeleteMultipleObjects: objects.delete_multiple,
    Operation.PutObject: objects.put_object,
    Operation.CopyObject: objects.copy_object,
    Operation.GetObject: website.get_object,  # objects.get_object, then the website rules on a miss
    Operation.HeadObject: website.head_object,
    Operation.GetObjectMeta: objects.get_object_meta,
    Operation.DeleteObject: objects.delete_object,
    Operation.PutObjectTagging: objects.put_object_tagging,
    Operation.GetObjectTagging: objects.get_object_tagging,
    Operation.DeleteObjectTagging: objects.delete_object_tagging,
    Operation.PutObjectAcl: objects.put_object_acl,
    Operation.GetObjectAcl: objects.get_object_acl,
    Operation.PutBucketPolicy: policy.put_bucket_policy,
    Operation.GetBucketPolicy: policy.get_bucket_policy,
    Operation.DeleteBucketPolicy: policy.delete_bucket_policy,
    Operation.InitiateMultipartUpload: multipart.initiate_multipart_upload,
    Operation.UploadPart: multipart.upload_part,
    Operation.UploadPartCopy: multipart.upload_part_copy,
    Operation.CompleteMultipartUpload: multipart.complete_multipart_upload,
    Operation.AbortMultipartUpload: multipart.abort_multipart_upload,
    Operation.ListParts: multipart.list_parts,
    Operation.AppendObject: append.append_object,
    Operation.PutSymlink: symlinks.put_symlink,
    Operation.GetSymlink: symlinks.get_symlink,
    Operation.RestoreObject: restore.restore_object,
    **replication.HANDLERS,
    **bucket_config.HANDLERS,
    **worm.HANDLERS,
    Operation.OptionObject: cors.preflight,
    Operation.OptionBucket: cors.preflight,
}
