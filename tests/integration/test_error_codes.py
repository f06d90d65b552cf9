"""Every bad input named in issue 2 gets the exact OSS error code, status and error XML.

Requests are sent with plain ``requests`` and signed by oss2's own auth objects
(``oss2.Auth`` / ``oss2.AuthV4``), so inputs an SDK would refuse to send (bad
bucket names, wrong Content-MD5, overlong keys) still reach the server.
"""

from __future__ import annotations

import base64
import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import oss2
import pytest
import requests

from tests.integration.harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FerryCluster, unique_bucket

KEY = "existing/obj.txt"
BODY = b"error-table body"
NOT_MD5 = base64.b64encode(hashlib.md5(b"something else").digest()).decode()


@dataclass
class Env:
    endpoint: str
    bucket: str
    """Private, owned by the test account, holds KEY."""

    def url(self, bucket: str | None = None, key: str = "") -> str:
        b = self.bucket if bucket is None else bucket
        return f"{self.endpoint}/{b}/{quote(key, safe='')}" if b else f"{self.endpoint}/"


def sign(
    method: str,
    bucket: str,
    key: str = "",
    *,
    v4: bool = False,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    access_key_id: str = ACCESS_KEY_ID,
    secret: str = ACCESS_KEY_SECRET,
) -> dict[str, str]:
    """The headers oss2 would sign this request with."""
    req = oss2.http.Request(
        method,
        "http://unused",
        params=dict(params or {}),
        headers=dict(headers or {}),
        region="cn-hangzhou",
        product="oss",
    )
    auth = oss2.AuthV4(access_key_id, secret) if v4 else oss2.Auth(access_key_id, secret)
    auth._sign_request(req, bucket, key)
    return {k: v for k, v in req.headers.items() if v is not None}


def send(
    env: Env,
    method: str,
    bucket: str | None = None,
    key: str = "",
    *,
    v4: bool = False,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    **signing: Any,
) -> requests.Response:
    b = env.bucket if bucket is None else bucket
    all_headers = sign(method, b, key, v4=v4, params=params, headers=headers, **signing)
    return requests.request(
        method, env.url(b, key), params=params, headers=all_headers, data=data, timeout=10
    )


def presigned(env: Env, key: str, *, v4: bool, expires: int, **bucket_args: Any) -> str:
    auth = (
        oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET) if v4 else oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    )
    b = oss2.Bucket(auth, env.endpoint, env.bucket, region="cn-hangzhou" if v4 else None, **bucket_args)
    return str(b.sign_url("GET", key, expires))


class _PastDatetime(datetime):
    """What ``datetime.utcnow()`` says inside oss2.auth while a test pretends to be two hours back."""

    offset = timedelta(hours=-2)

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        return datetime.utcnow() + cls.offset


def _skewed_v1(env: Env, monkeypatch: pytest.MonkeyPatch) -> requests.Response:
    monkeypatch.setattr(
        oss2.auth.utils, "http_date", lambda *a: formatdate(time.time() - 20 * 60, usegmt=True)
    )
    return send(env, "GET", key=KEY)


def _skewed_v4(env: Env, monkeypatch: pytest.MonkeyPatch) -> requests.Response:
    _PastDatetime.offset = timedelta(minutes=20)
    monkeypatch.setattr(oss2.auth, "datetime", _PastDatetime)
    return send(env, "GET", key=KEY, v4=True)


def _expired_v4_presign(env: Env, monkeypatch: pytest.MonkeyPatch) -> requests.Response:
    _PastDatetime.offset = timedelta(hours=-2)
    monkeypatch.setattr(oss2.auth, "datetime", _PastDatetime)
    url = presigned(env, KEY, v4=True, expires=60)
    monkeypatch.undo()
    return requests.get(url, timeout=10)


def _bad_delete_md5(env: Env, _: pytest.MonkeyPatch) -> requests.Response:
    body = b"<Delete><Quiet>false</Quiet><Object><Key>a</Key></Object></Delete>"
    return send(env, "POST", params={"delete": ""}, headers={"Content-MD5": NOT_MD5}, data=body)


def _malformed_delete(env: Env, _: pytest.MonkeyPatch) -> requests.Response:
    body = b"<Delete><Object><Key>a</Key></Object"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return send(env, "POST", params={"delete": ""}, headers={"Content-MD5": md5}, data=body)


def _delete_without_objects(env: Env, _: pytest.MonkeyPatch) -> requests.Response:
    body = b"<Delete><Quiet>true</Quiet></Delete>"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return send(env, "POST", params={"delete": ""}, headers={"Content-MD5": md5}, data=body)


def _full_bucket(env: Env, _: pytest.MonkeyPatch) -> requests.Response:
    return send(env, "DELETE", key="")


Maker = Callable[[Env, pytest.MonkeyPatch], requests.Response]


@dataclass
class Case:
    id: str
    make: Maker
    status: int
    code: str
    details: dict[str, str] = field(default_factory=dict)
    """Extra children of <Error> that must be present, with these values ('*' = any non-empty)."""


def case(id: str, status: int, code: str, make: Maker, **details: str) -> Any:
    return pytest.param(Case(id, make, status, code, details), id=id)


LONG_KEY = "k" * 1024
MISSING_BUCKET = "ferry-no-such-bucket-0000"

CASES = [
    # --- authentication ---------------------------------------------------------------
    case(
        "unknown-key-v1",
        403,
        "InvalidAccessKeyId",
        lambda e, m: send(e, "GET", key=KEY, access_key_id="LTAIunknownkey99", secret="whatever"),
        OSSAccessKeyId="LTAIunknownkey99",
    ),
    case(
        "unknown-key-v4",
        403,
        "InvalidAccessKeyId",
        lambda e, m: send(e, "GET", key=KEY, v4=True, access_key_id="LTAIunknownkey99", secret="whatever"),
    ),
    case(
        "unknown-key-before-signature-check",
        403,
        "InvalidAccessKeyId",
        lambda e, m: requests.get(
            e.url(key=KEY),
            timeout=10,
            headers={
                "Date": formatdate(usegmt=True),
                "Authorization": "OSS LTAIunknownkey99:bm90LWEtc2lnbmF0dXJl",
            },
        ),
    ),
    case(
        "unknown-key-presign",
        403,
        "InvalidAccessKeyId",
        lambda e, m: requests.get(
            e.url(key=KEY),
            timeout=10,
            params={
                "OSSAccessKeyId": "LTAIunknownkey99",
                "Expires": str(int(time.time()) + 60),
                "Signature": "x",
            },
        ),
    ),
    case(
        "bad-signature-v1",
        403,
        "SignatureDoesNotMatch",
        lambda e, m: send(e, "GET", key=KEY, secret="not-the-secret"),
    ),
    case(
        "bad-signature-v4",
        403,
        "SignatureDoesNotMatch",
        lambda e, m: send(e, "GET", key=KEY, v4=True, secret="not-the-secret"),
    ),
    case(
        "signed-other-key-v1",
        403,
        "SignatureDoesNotMatch",
        lambda e, m: requests.get(e.url(key=KEY), headers=sign("GET", e.bucket, "other"), timeout=10),
    ),
    case(
        "tampered-presign-v1",
        403,
        "SignatureDoesNotMatch",
        lambda e, m: requests.get(
            presigned(e, KEY, v4=False, expires=60).replace("Signature=", "Signature=A"), timeout=10
        ),
    ),
    case(
        "tampered-presign-v4",
        403,
        "SignatureDoesNotMatch",
        lambda e, m: requests.get(
            presigned(e, KEY, v4=True, expires=60).replace("x-oss-signature=", "x-oss-signature=0"),
            timeout=10,
        ),
    ),
    case("skewed-date-v1", 403, "RequestTimeTooSkewed", _skewed_v1),
    case("skewed-x-oss-date-v4", 403, "RequestTimeTooSkewed", _skewed_v4),
    case(
        "expired-presign-v1",
        403,
        "AccessDenied",
        lambda e, m: requests.get(presigned(e, KEY, v4=False, expires=-60), timeout=10),
    ),
    case("expired-presign-v4", 403, "AccessDenied", _expired_v4_presign),
    case(
        "anonymous-private-object", 403, "AccessDenied", lambda e, m: requests.get(e.url(key=KEY), timeout=10)
    ),
    case("anonymous-private-list", 403, "AccessDenied", lambda e, m: requests.get(e.url(), timeout=10)),
    case(
        "anonymous-put",
        403,
        "AccessDenied",
        lambda e, m: requests.put(e.url(key="anon"), data=b"x", timeout=10),
    ),
    case(
        "anonymous-list-buckets", 403, "AccessDenied", lambda e, m: requests.get(f"{e.endpoint}/", timeout=10)
    ),
    # --- buckets ------------------------------------------------------------------------
    case(
        "bucket-name-upper",
        400,
        "InvalidBucketName",
        lambda e, m: send(e, "PUT", bucket="Bad_Bucket"),
        BucketName="Bad_Bucket",
    ),
    case(
        "bucket-name-short",
        400,
        "InvalidBucketName",
        lambda e, m: send(e, "PUT", bucket="ab"),
        BucketName="ab",
    ),
    case(
        "bucket-name-dash",
        400,
        "InvalidBucketName",
        lambda e, m: send(e, "PUT", bucket="-dash-first"),
        BucketName="-dash-first",
    ),
    case("bucket-not-empty", 409, "BucketNotEmpty", _full_bucket, BucketName="*"),
    case(
        "no-such-bucket-get",
        404,
        "NoSuchBucket",
        lambda e, m: send(e, "GET", bucket=MISSING_BUCKET, key="k"),
        BucketName=MISSING_BUCKET,
    ),
    case(
        "no-such-bucket-list",
        404,
        "NoSuchBucket",
        lambda e, m: send(e, "GET", bucket=MISSING_BUCKET),
        BucketName=MISSING_BUCKET,
    ),
    case(
        "no-such-bucket-delete",
        404,
        "NoSuchBucket",
        lambda e, m: send(e, "DELETE", bucket=MISSING_BUCKET),
        BucketName=MISSING_BUCKET,
    ),
    case(
        "no-such-bucket-info",
        404,
        "NoSuchBucket",
        lambda e, m: send(e, "GET", bucket=MISSING_BUCKET, params={"bucketInfo": ""}),
        BucketName=MISSING_BUCKET,
    ),
    # --- objects ------------------------------------------------------------------------
    case(
        "no-such-key",
        404,
        "NoSuchKey",
        lambda e, m: send(e, "GET", key="missing/key"),
        BucketName="*",
        Key="missing/key",
    ),
    case(
        "no-such-key-copy-source",
        404,
        "NoSuchKey",
        lambda e, m: send(e, "PUT", key="copy-target", headers={"x-oss-copy-source": f"/{e.bucket}/missing"}),
    ),
    case(
        "bad-content-md5",
        400,
        "InvalidDigest",
        lambda e, m: send(e, "PUT", key="md5", headers={"Content-MD5": NOT_MD5}, data=b"payload"),
    ),
    case(
        "content-md5-not-base64",
        400,
        "InvalidDigest",
        lambda e, m: send(e, "PUT", key="md5", headers={"Content-MD5": "not base64!"}, data=b"payload"),
    ),
    case("bad-content-md5-delete-multiple", 400, "InvalidDigest", _bad_delete_md5),
    case(
        "key-too-long",
        400,
        "InvalidObjectName",
        lambda e, m: send(e, "PUT", key=LONG_KEY, data=b"x"),
        Key=LONG_KEY,
    ),
    case(
        "forbid-overwrite",
        409,
        "FileAlreadyExists",
        lambda e, m: send(e, "PUT", key=KEY, headers={"x-oss-forbid-overwrite": "true"}, data=b"x"),
        Key=KEY,
    ),
    case(
        "if-match",
        412,
        "PreconditionFailed",
        lambda e, m: send(e, "GET", key=KEY, headers={"If-Match": '"00000000000000000000000000000000"'}),
    ),
    case(
        "if-unmodified-since",
        412,
        "PreconditionFailed",
        lambda e, m: send(
            e, "GET", key=KEY, headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        ),
    ),
    case(
        "copy-source-if-match",
        412,
        "PreconditionFailed",
        lambda e, m: send(
            e,
            "PUT",
            key="copy-target",
            headers={
                "x-oss-copy-source": f"/{e.bucket}/{quote(KEY)}",
                "x-oss-copy-source-if-match": '"00000000000000000000000000000000"',
            },
        ),
    ),
    case(
        "range-standard",
        416,
        "InvalidRange",
        lambda e, m: send(
            e, "GET", key=KEY, headers={"Range": "bytes=1000-2000", "x-oss-range-behavior": "standard"}
        ),
    ),
    # --- arguments ----------------------------------------------------------------------
    case(
        "max-keys-not-a-number",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "GET", params={"max-keys": "many"}),
    ),
    case(
        "max-keys-too-large", 400, "InvalidArgument", lambda e, m: send(e, "GET", params={"max-keys": "1001"})
    ),
    case(
        "max-keys-negative-v2",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "GET", params={"list-type": "2", "max-keys": "-1"}),
    ),
    case(
        "bad-bucket-acl",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "PUT", params={"acl": ""}, headers={"x-oss-acl": "public-everything"}),
    ),
    case(
        "bad-bucket-acl-on-create",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "PUT", bucket=unique_bucket(), headers={"x-oss-acl": "world-writable"}),
    ),
    case(
        "bad-object-acl",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "PUT", key=KEY, params={"acl": ""}, headers={"x-oss-object-acl": "everyone"}),
    ),
    case(
        "bad-encoding-type",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "GET", params={"encoding-type": "base64"}),
    ),
    case("malformed-delete-body", 400, "MalformedXML", _malformed_delete),
    case("delete-body-without-objects", 400, "MalformedXML", _delete_without_objects),
    case(
        "unserved-subresource-inventory",
        501,
        "NotImplemented",
        lambda e, m: send(e, "GET", params={"inventory": ""}),
    ),
    case(
        "no-cors-configuration",
        404,
        "NoSuchCORSConfiguration",
        lambda e, m: send(e, "GET", params={"cors": ""}),
    ),
    case("no-lifecycle", 404, "NoSuchLifecycle", lambda e, m: send(e, "GET", params={"lifecycle": ""})),
    case(
        "lifecycle-without-rules",
        400,
        "MalformedXML",
        lambda e, m: send(e, "PUT", params={"lifecycle": ""}, data=b"<LifecycleConfiguration/>"),
    ),
    case(
        "no-website", 404, "NoSuchWebsiteConfiguration", lambda e, m: send(e, "GET", params={"website": ""})
    ),
    case(
        "no-encryption-rule",
        404,
        "NoSuchServerSideEncryptionRule",
        lambda e, m: send(e, "GET", params={"encryption": ""}),
    ),
    case("no-worm", 404, "NoSuchWORMConfiguration", lambda e, m: send(e, "GET", params={"worm": ""})),
    case(
        "malformed-version-id",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "GET", key=KEY, params={"versionId": "not-a-version"}),
    ),
    case(
        "unserved-subresource-qos-info",
        501,
        "NotImplemented",
        lambda e, m: send(e, "GET", params={"qosInfo": ""}),
    ),
    case(
        "no-such-upload",
        404,
        "NoSuchUpload",
        lambda e, m: send(e, "GET", key=KEY, params={"uploadId": "0" * 32}),
        UploadId="0" * 32,
    ),
    case(
        "part-number-out-of-range",
        400,
        "InvalidArgument",
        lambda e, m: send(e, "PUT", key=KEY, params={"partNumber": "10001", "uploadId": "x"}, data=b"x"),
    ),
    case(
        "append-to-a-normal-object",
        409,
        "ObjectNotAppendable",
        lambda e, m: send(e, "POST", key=KEY, params={"append": "", "position": "0"}, data=b"x"),
    ),
    case(
        "append-at-the-wrong-position",
        409,
        "PositionNotEqualToLength",
        lambda e, m: send(e, "POST", key="never-written", params={"append": "", "position": "3"}, data=b"x"),
    ),
    case(
        "get-symlink-of-a-normal-object",
        400,
        "NotSymlink",
        lambda e, m: send(e, "GET", key=KEY, params={"symlink": ""}),
    ),
    case(
        "restore-a-standard-object",
        400,
        "OperationNotSupported",
        lambda e, m: send(e, "POST", key=KEY, params={"restore": ""}),
    ),
    case(
        "unserved-object-subresource-select",
        501,
        "NotImplemented",
        lambda e, m: send(e, "POST", key=KEY, params={"select": ""}, data=b"<SelectRequest/>"),
    ),
]


@pytest.fixture(scope="module")
def env(cluster: FerryCluster) -> Iterator[Env]:
    name = unique_bucket("errors")
    b = cluster.oss2_bucket(name)
    b.create_bucket()
    b.put_object(KEY, BODY)
    yield Env(cluster.region().endpoint, name)
    for obj in oss2.ObjectIteratorV2(b):
        b.delete_object(obj.key)
    b.delete_bucket()


@pytest.mark.parametrize("c", CASES)
def test_error_code(c: Case, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    response = c.make(env, monkeypatch)
    monkeypatch.undo()
    assert (response.status_code, _code(response)) == (c.status, c.code), response.text
    check_error_document(response, c.code, c.details)


def _code(response: requests.Response) -> str | None:
    try:
        node = ET.fromstring(response.content).find("Code")
    except ET.ParseError:
        return None
    return None if node is None else node.text


def check_error_document(response: requests.Response, code: str, details: dict[str, str]) -> None:
    assert response.headers["Content-Type"] == "application/xml"
    request_id = response.headers["x-oss-request-id"]
    assert len(request_id) == 24
    assert response.headers["Server"] == "AliyunOSS"
    assert response.headers["Date"].endswith(" GMT")
    root = ET.fromstring(response.content)
    assert root.tag == "Error"
    fields = {child.tag: child.text or "" for child in root}
    assert fields["Code"] == code
    assert fields["Message"]
    assert fields["RequestId"] == request_id
    assert fields["HostId"]
    for name, value in details.items():
        assert name in fields, f"<{name}> missing from {response.text}"
        if value == "*":
            assert fields[name]
        else:
            assert fields[name] == value


def test_error_codes_of_head_requests_are_in_headers_only(env: Env) -> None:
    """HEAD has no body, but the status and the common headers are the same; the error
    document travels base64-encoded in ``x-oss-err`` (oss2 reads it)."""
    response = requests.head(env.url(key="missing"), headers=sign("HEAD", env.bucket, "missing"), timeout=10)
    assert response.status_code == 404
    assert response.content == b""
    assert ET.fromstring(base64.b64decode(response.headers["x-oss-err"])).findtext("Code") == "NoSuchKey"
    assert len(response.headers["x-oss-request-id"]) == 24
    assert response.headers["Server"] == "AliyunOSS"
    assert "Date" in response.headers


def test_v2_sdk_sees_the_same_code(cluster: FerryCluster, env: Env) -> None:
    """alibabacloud-oss-v2 parses the error XML (it needs Content-Type application/xml)."""
    import alibabacloud_oss_v2 as v2

    client = cluster.v2_client()
    with pytest.raises(v2.exceptions.OperationError) as info:
        client.get_object(v2.GetObjectRequest(bucket=env.bucket, key="missing"))
    inner = info.value.unwrap()
    assert isinstance(inner, v2.exceptions.ServiceError)
    assert (inner.status_code, inner.code) == (404, "NoSuchKey")
    assert len(inner.request_id) == 24
    assert inner.ec is not None


def test_creating_an_owned_bucket_again_succeeds(cluster: FerryCluster) -> None:
    """On OSS, PutBucket of a bucket one already owns answers 200 and changes nothing."""
    name = unique_bucket()
    b = cluster.oss2_bucket(name)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    try:
        b.put_object("k", b"kept")
        b.create_bucket()
        assert b.get_object("k").read() == b"kept"
        assert b.get_bucket_acl().acl == oss2.BUCKET_ACL_PUBLIC_READ
    finally:
        b.delete_object("k")
        b.delete_bucket()


def test_bucket_already_exists_for_another_account(tmp_path: Path) -> None:
    """A second account cannot be made over HTTP yet: check the rule in the bucket service itself."""
    from ferry.core.clock import ManualClock
    from ferry.core.errors import OssError
    from ferry.core.model import BucketAcl, StorageClass
    from ferry.protocol.app import render_error
    from ferry.service.buckets import BucketService
    from ferry.storage.sqlite_meta import SqliteMetadataStore

    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    try:
        service = BucketService(store, "oss-cn-hangzhou", ManualClock())
        service.create("account-a", "shared-name", BucketAcl.PRIVATE, StorageClass.STANDARD)
        with pytest.raises(OssError) as info:
            service.create("account-b", "shared-name", BucketAcl.PRIVATE, StorageClass.STANDARD)
    finally:
        store.close()
    error = info.value
    assert (error.code, error.status) == ("BucketAlreadyExists", 409)
    response = render_error(error, "A" * 24, "oss-cn-hangzhou.example", "PUT")
    assert response.status == 409
    assert ("Content-Type", "application/xml") in response.headers
    root = ET.fromstring(response.body)
    assert root.findtext("Code") == "BucketAlreadyExists"
    assert root.findtext("BucketName") == "shared-name"
    assert root.findtext("RequestId") == "A" * 24
