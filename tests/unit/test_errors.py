"""The one error table and the one error renderer."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest

from ferry.core.errors import ERROR_TABLE, OssError
from ferry.protocol.app import new_request_id, render_error


@pytest.mark.parametrize("code", sorted(ERROR_TABLE))
def test_every_code_has_an_error_status_and_a_message(code: str) -> None:
    spec = ERROR_TABLE[code]
    # NotModified is the one 3xx OSS reports through the error path.
    low = 300 if code == "NotModified" else 400
    assert low <= spec.status <= 599
    assert spec.message.strip()
    error = OssError(code)
    assert error.code == code
    assert error.status == spec.status
    assert error.message == spec.message


def test_error_status_comes_from_the_table_and_message_can_be_overridden() -> None:
    error = OssError("NoSuchKey", "gone", Key="k")
    assert error.status == 404
    assert error.message == "gone"
    assert error.details == {"Key": "k", "EC": "0026-00000001"}  # the code's one detailed code
    assert str(error) == "NoSuchKey: gone"


def test_unknown_code_raises_key_error() -> None:
    with pytest.raises(KeyError, match="NoSuchThing"):
        OssError("NoSuchThing")


def test_well_known_statuses() -> None:
    expected = {
        "NoSuchBucket": 404,
        "NoSuchKey": 404,
        "AccessDenied": 403,
        "InvalidAccessKeyId": 403,
        "SignatureDoesNotMatch": 403,
        "BucketAlreadyExists": 409,
        "BucketNotEmpty": 409,
        "InvalidRange": 416,
        "MethodNotAllowed": 405,
        "NotImplemented": 501,
        "MalformedXML": 400,
        "InternalError": 500,
        "NoSuchReplicationRule": 404,
        "BucketReplicationAlreadyExist": 400,
    }
    assert {code: ERROR_TABLE[code].status for code in expected} == expected


def _header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in headers if n.lower() == name.lower()]


def test_render_error_body_is_the_oss_error_document_in_order() -> None:
    error = OssError("NoSuchKey", BucketName="bkt", Key="dir/ké y")
    response = render_error(error, "A" * 24, "127.0.0.1", "GET")
    assert response.status == 404
    assert _header(response.headers, "Content-Type") == ["application/xml"]
    root = ET.fromstring(response.body)
    assert root.tag == "Error"
    assert [child.tag for child in root] == [
        "Code",
        "Message",
        "RequestId",
        "HostId",
        "BucketName",
        "Key",
        "EC",
    ]
    assert [child.text for child in root] == [
        "NoSuchKey",
        ERROR_TABLE["NoSuchKey"].message,
        "A" * 24,
        "127.0.0.1",
        "bkt",
        "dir/ké y",
        "0026-00000001",
    ]
    assert _header(response.headers, "x-oss-ec") == ["0026-00000001"]
    assert response.body.startswith(b"<?xml")


def test_render_error_escapes_xml_in_details() -> None:
    error = OssError("InvalidObjectName", "bad <name> & co", Key="<k>&")
    root = ET.fromstring(render_error(error, "B" * 24, "h", "PUT").body)
    assert root.findtext("Message") == "bad <name> & co"
    assert root.findtext("Key") == "<k>&"


def test_render_error_for_head_has_no_body_but_keeps_status_and_type() -> None:
    response = render_error(OssError("NoSuchBucket", BucketName="b"), "C" * 24, "h", "HEAD")
    assert response.status == 404
    assert response.body == b""
    assert _header(response.headers, "Content-Type") == ["application/xml"]


def test_render_error_for_head_carries_the_document_in_x_oss_err() -> None:
    response = render_error(OssError("NoSuchBucket", BucketName="b"), "C" * 24, "h", "HEAD")
    [encoded] = _header(response.headers, "x-oss-err")
    root = ET.fromstring(base64.b64decode(encoded))
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("BucketName") == "b"


def test_render_error_sends_ec_header_and_extra_headers() -> None:
    error = OssError("NoSuchKey", EC="0026-00000001")
    error.headers.append(("x-oss-delete-marker", "true"))
    response = render_error(error, "D" * 24, "h", "GET")
    assert _header(response.headers, "x-oss-ec") == ["0026-00000001"]
    assert _header(response.headers, "x-oss-delete-marker") == ["true"]
    assert ET.fromstring(response.body).findtext("EC") == "0026-00000001"


def test_render_error_without_ec_sends_no_empty_ec_header() -> None:
    response = render_error(OssError("AccessDenied"), "E" * 24, "h", "GET")
    assert _header(response.headers, "x-oss-ec") == []
    assert response.status == 403


def test_request_id_is_24_upper_case_hex_and_fresh() -> None:
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200
    for rid in ids:
        assert re.fullmatch(r"[0-9A-F]{24}", rid), rid
