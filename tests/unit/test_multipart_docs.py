"""The multipart XML documents, read back with oss2's own parsers."""

from __future__ import annotations

from types import SimpleNamespace

import oss2
import pytest
from oss2 import xml_utils

from ferry.core.errors import OssError
from ferry.core.multipart import MultipartUpload, Part
from ferry.protocol import multipart_docs as mdocs
from ferry.service.multipart import PartPage
from ferry.service.upload_listing import UploadPage

T = 1_700_000_000.0


def test_parse_complete_reads_the_sdk_document() -> None:
    parts = [oss2.models.PartInfo(1, "AA"), oss2.models.PartInfo(3, "bb")]
    body = xml_utils.to_complete_upload_request(parts)
    assert mdocs.parse_complete(oss2.to_bytes(body)) == [(1, '"AA"'), (3, '"bb"')]


@pytest.mark.parametrize(
    "body",
    [
        b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        b"<Other/>",
        b"not xml",
    ],
)
def test_parse_complete_refuses_malformed_documents(body: bytes) -> None:
    with pytest.raises(OssError) as info:
        mdocs.parse_complete(body)
    assert info.value.code == "MalformedXML"


def test_initiate_result_with_url_encoding() -> None:
    result = xml_utils.parse_init_multipart_upload(
        SimpleNamespace(), mdocs.initiate_result("b", "a b/ü", "UPLOAD", url=True)
    )
    assert result.upload_id == "UPLOAD"


def test_list_parts_as_oss2_reads_it() -> None:
    page = PartPage([Part(2, 5, "ABC", 7, "blob", T), Part(4, 6, "DEF", 8, "blob2", T)], True, 4)
    request = mdocs.PartsRequest("b", "k", "U", "Standard", 1, 2, False)
    result = xml_utils.parse_list_parts(SimpleNamespace(parts=[]), mdocs.list_parts(request, page))
    assert result.is_truncated is True
    assert result.next_marker == "4"
    assert [(p.part_number, p.etag, p.size, p.last_modified) for p in result.parts] == [
        (2, "ABC", 5, int(T)),
        (4, "DEF", 6, int(T)),
    ]


def test_list_uploads_as_oss2_reads_it_url_encoded() -> None:
    upload = MultipartUpload(upload_id="U1", bucket="b", key="中文 +key", initiated_at=T)
    page = UploadPage([upload], ["dir/ü/"], True, "中文 +key", "U1")
    request = mdocs.UploadsRequest("b", "", "/", "", "", 2, True)
    result = xml_utils.parse_list_multipart_uploads(
        SimpleNamespace(upload_list=[], prefix_list=[]), mdocs.list_uploads(request, page)
    )
    assert [(u.key, u.upload_id, u.initiation_date) for u in result.upload_list] == [
        ("中文 +key", "U1", int(T))
    ]
    assert result.prefix_list == ["dir/ü/"]
    assert (result.is_truncated, result.next_key_marker, result.next_upload_id_marker) == (
        True,
        "中文 +key",
        "U1",
    )


def test_an_untruncated_upload_listing_still_has_both_next_markers() -> None:
    xml = mdocs.list_uploads(
        mdocs.UploadsRequest("b", "", "", "", "", 10, False), UploadPage([], [], False, "", "")
    )
    result = xml_utils.parse_list_multipart_uploads(SimpleNamespace(upload_list=[], prefix_list=[]), xml)
    assert result.is_truncated is False
    assert result.next_upload_id_marker == ""
