"""XML documents of the multipart upload APIs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from ferry.core.errors import OssError
from ferry.core.multipart import MAX_PART_NUMBER, Part
from ferry.protocol.documents import iso8601, quoted_etag
from ferry.protocol.xmlcodec import children, element, leaf, parse, serialize, text_of
from ferry.service.multipart import PartPage
from ferry.service.upload_listing import UploadPage


def _enc(value: str, url: bool) -> str:
    return quote(value, safe="") if url else value


def initiate_result(bucket: str, key: str, upload_id: str, url: bool) -> bytes:
    return serialize(
        element(
            "InitiateMultipartUploadResult",
            leaf("Bucket", bucket),
            leaf("Key", _enc(key, url)),
            leaf("UploadId", upload_id),
            leaf("EncodingType", "url") if url else None,
        )
    )


def parse_complete(body: bytes) -> list[tuple[int, str]]:
    """The (part number, ETag) pairs of a CompleteMultipartUpload document, in document order."""
    root = parse(body, "CompleteMultipartUpload")
    requested: list[tuple[int, str]] = []
    for node in children(root, "Part"):
        number, etag = text_of(node, "PartNumber"), text_of(node, "ETag")
        if not number or not number.isdigit() or etag is None:
            raise OssError("MalformedXML", "Every Part needs a PartNumber and an ETag.")
        requested.append((int(number), etag))
        if len(requested) > MAX_PART_NUMBER:
            raise OssError(
                "MalformedXML", f"A CompleteMultipartUpload names at most {MAX_PART_NUMBER} parts."
            )
    return requested


def complete_result(location: str, bucket: str, key: str, etag: str, url: bool) -> bytes:
    return serialize(
        element(
            "CompleteMultipartUploadResult",
            leaf("EncodingType", "url") if url else None,
            leaf("Location", location),
            leaf("Bucket", bucket),
            leaf("Key", _enc(key, url)),
            leaf("ETag", quoted_etag(etag)),
        )
    )


def copy_part_result(part: Part) -> bytes:
    return serialize(
        element(
            "CopyPartResult",
            leaf("LastModified", iso8601(part.created_at)),
            leaf("ETag", quoted_etag(part.etag)),
        )
    )


@dataclass(frozen=True)
class PartsRequest:
    bucket: str
    key: str
    upload_id: str
    storage_class: str
    marker: int
    max_parts: int
    url: bool


def list_parts(request: PartsRequest, page: PartPage) -> bytes:
    return serialize(
        element(
            "ListPartsResult",
            leaf("EncodingType", "url") if request.url else None,
            leaf("Bucket", request.bucket),
            leaf("Key", _enc(request.key, request.url)),
            leaf("UploadId", request.upload_id),
            leaf("StorageClass", request.storage_class),
            leaf("PartNumberMarker", request.marker),
            leaf("NextPartNumberMarker", page.next_marker),
            leaf("MaxParts", request.max_parts),
            leaf("IsTruncated", page.truncated),
            *(
                element(
                    "Part",
                    leaf("PartNumber", p.part_number),
                    leaf("LastModified", iso8601(p.created_at)),
                    leaf("ETag", quoted_etag(p.etag)),
                    leaf("HashCrc64ecma", str(p.crc64)),
                    leaf("Size", p.size),
                )
                for p in page.parts
            ),
        )
    )


@dataclass(frozen=True)
class UploadsRequest:
    bucket: str
    prefix: str
    delimiter: str
    key_marker: str
    upload_id_marker: str
    max_uploads: int
    url: bool


def list_uploads(request: UploadsRequest, page: UploadPage) -> bytes:
    url = request.url
    return serialize(
        element(
            "ListMultipartUploadsResult",
            leaf("EncodingType", "url") if url else None,
            leaf("Bucket", request.bucket),
            leaf("KeyMarker", _enc(request.key_marker, url)),
            leaf("UploadIdMarker", request.upload_id_marker),
            # oss2 requires both Next markers, truncated or not.
            leaf("NextKeyMarker", _enc(page.next_key_marker, url)),
            leaf("NextUploadIdMarker", page.next_upload_id_marker),
            leaf("Delimiter", _enc(request.delimiter, url)),
            leaf("Prefix", _enc(request.prefix, url)),
            leaf("MaxUploads", request.max_uploads),
            leaf("IsTruncated", page.truncated),
            *(
                element(
                    "Upload",
                    leaf("Key", _enc(u.key, url)),
                    leaf("UploadId", u.upload_id),
                    leaf("StorageClass", u.storage_class.value),
                    leaf("Initiated", iso8601(u.initiated_at)),
                )
                for u in page.uploads
            ),
            *(element("CommonPrefixes", leaf("Prefix", _enc(p, url))) for p in page.common_prefixes),
        )
    )
