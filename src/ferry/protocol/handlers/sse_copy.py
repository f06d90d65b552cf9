"""CopyObject into a different encryption: the bytes are decrypted and written again.

A copy keeps sharing the source's stored bytes only when the target is to be
encrypted exactly as the source is; otherwise (the copy asks for other SSE
headers, none at all, or the target bucket's default differs) OSS re-encrypts,
and so does Ferry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ferry.core.encryption import Encryption, SseAlgorithm
from ferry.core.model import Bucket, ObjectAcl, ObjectVersion, StorageClass
from ferry.protocol.handlers import sse
from ferry.region import RegionRuntime
from ferry.service.kms import encryptor
from ferry.service.objects import ObjectAttrs
from ferry.service.staging import finish


def keeps(current: Encryption | None, wanted: sse.Wanted | None) -> bool:
    """Whether bytes encrypted as ``current`` are already what ``wanted`` asks for."""
    if wanted is None or current is None:
        return wanted is None and current is None
    algorithm, key_id, data_encryption = wanted
    if current.algorithm is not algorithm:
        return False
    if algorithm is SseAlgorithm.KMS and key_id is not None and key_id != current.key_id:
        return False
    return (data_encryption or None) == current.reported_data_encryption


def copy_reencrypted(
    rt: RegionRuntime,
    wanted: sse.Wanted | None,
    source_bucket: Bucket,
    source_key: str,
    source_version_id: str | None,
    target: Bucket,
    target_key: str,
    *,
    owner_id: str,
    replace_attrs: ObjectAttrs | None,
    acl: ObjectAcl,
    forbid_overwrite: bool = False,
    tags: Mapping[str, str] | None = None,
    storage_class: StorageClass | None = None,
) -> tuple[ObjectVersion, ObjectVersion]:
    """Like ``ObjectService.copy``, writing the plaintext again under ``wanted`` (blocking)."""
    source = rt.objects.get(source_bucket, source_key, source_version_id)
    attrs = replace_attrs or ObjectAttrs(
        content_headers=source.content_headers, user_meta=source.user_meta, tags=source.tags
    )
    attrs = replace(
        attrs,
        acl=acl,
        storage_class=storage_class or attrs.storage_class or source.storage_class,
        tags=source.tags if tags is None else tags,
    )
    encryption, transform = None, None
    if wanted is not None:
        encryption, data_key = rt.kms.new_encryption(*wanted)
        transform = encryptor(data_key, encryption)
    writer = rt.blobs.open_writer(transform)
    try:
        if source.size:
            chunks = rt.blobs.read(source.blob_id, 0, source.size)
            for chunk in sse.plaintext(rt.kms, source, chunks, 0):
                writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    version = rt.objects.put(
        target,
        target_key,
        finish(writer),
        attrs,
        owner_id=owner_id,
        forbid_overwrite=forbid_overwrite,
        encryption=encryption,
    )
    return source, version
