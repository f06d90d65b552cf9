"""The pure signing functions against the SDKs' own vectors and their own code.

Vectors marked "v2 test_v1.py" / "v2 test_v4.py" are copied from
aliyun/alibabacloud-oss-python-sdk-v2 ``tests/unit/signer/test_v1.py`` and
``tests/unit/signer/test_v4.py`` (same inputs, same expected outputs).  oss2
2.19.1 ships no signing vectors (its ``unittests/test_auth.py`` only checks
``auth_version()``), so oss2 is covered by calling its private string-to-sign
builders on the same inputs.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import oss2
from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer import SignerV1, SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.protocol import signing

# --- V1 vectors (v2 test_v1.py) ---------------------------------------------

V1_HEADERS = {
    "content-md5": "eB5eJF1ptWaXm4bijSPyxw==",
    "content-type": "text/html",
    "x-oss-meta-author": "alice",
    "x-oss-meta-magic": "abracadabra",
    "x-oss-date": "Wed, 28 Dec 2022 10:27:41 GMT",
    "date": "Sat, 16 Dec 2023 16:20:57 GMT",  # set by the signer, shadowed by x-oss-date
}


def test_v1_vector_object_put() -> None:
    # v2 test_v1.py test_auth_header_1
    sts = signing.v1_string_to_sign("PUT", V1_HEADERS, "examplebucket", "nelson", [])
    assert sts == (
        "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n"
        "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n"
        "x-oss-meta-magic:abracadabra\n/examplebucket/nelson"
    )
    assert signing.v1_signature("sk", sts) == "kSHKmLxlyEAKtZPkJhG9bZb5k7M="


def test_v1_vector_subresource_acl() -> None:
    # v2 test_v1.py test_auth_header_2
    sts = signing.v1_string_to_sign("PUT", V1_HEADERS, "examplebucket", "nelson", [("acl", "")])
    assert sts.endswith("\n/examplebucket/nelson?acl")
    assert signing.v1_signature("sk", sts) == "/afkugFbmWDQ967j1vr6zygBLQk="


def test_v1_vector_bucket_level_ignores_non_subresource() -> None:
    # v2 test_v1.py test_auth_header_3
    headers = {"x-oss-date": "Wed, 28 Dec 2022 10:27:41 GMT"}
    query = [("resourceGroup", ""), ("non-resousce", "null")]
    for subresources in signing.V1_SUBRESOURCE_SETS[:2]:
        sts = signing.v1_string_to_sign("GET", headers, "examplebucket", None, query, subresources)
        assert sts == (
            "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
            "/examplebucket/?resourceGroup"
        )
        assert signing.v1_signature("sk", sts) == "vkQmfuUDyi1uDi3bKt67oemssIs="


def test_v1_vector_subresources_sorted() -> None:
    # v2 test_v1.py test_auth_header_4
    headers = {"x-oss-date": "Wed, 28 Dec 2022 10:27:41 GMT"}
    sts = signing.v1_string_to_sign(
        "GET", headers, "examplebucket", None, [("resourceGroup", ""), ("acl", "")]
    )
    assert sts.endswith("\n/examplebucket/?acl&resourceGroup")
    assert signing.v1_signature("sk", sts) == "x3E5TgOvl/i7PN618s5mEvpJDYk="


def test_v1_vector_presigned_uses_expires_as_date() -> None:
    # v2 test_v1.py test_auth_query: Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D
    query = [("versionId", "versionId"), ("OSSAccessKeyId", "ak"), ("Expires", "1699807420")]
    sts = signing.v1_string_to_sign("GET", {}, "bucket", "key", query, date="1699807420")
    assert sts == "GET\n\n\n1699807420\n/bucket/key?versionId=versionId"
    assert signing.v1_signature("sk", sts) == "dcLTea+Yh9ApirQ8o8dOPqtvJXQ="


def test_v1_vector_presigned_signs_security_token_and_response_params() -> None:
    # v2 test_v1.py test_auth_query_param_with_token: Signature=3GJoEOv5LX2ASp0HJk%2FhAk%2BqLJc%3D
    headers = {"x-oss-head1": "value", "abc": "value", "zabc": "value", "xyz": "value"}
    headers["content-type"] = "application/octet-stream"
    # The vector's URL already holds ``?versionId=versionId`` and the test
    # appends ``?param1=...``, so versionId's value swallows ``?param1=value1``.
    query = [
        ("versionId", "versionId?param1=value1"),
        ("+param1", "value3"),
        ("|param1", "value4"),
        ("+param2", ""),
        ("|param2", ""),
        ("param2", ""),
        ("response-content-disposition", "attachment; filename=example.txt"),
        ("OSSAccessKeyId", "ak"),
        ("Expires", "1699808204"),
        ("security-token", "token"),
    ]
    sts = signing.v1_string_to_sign("GET", headers, "bucket", "key", query, date="1699808204")
    assert sts == (
        "GET\n\napplication/octet-stream\n1699808204\nx-oss-head1:value\n"
        "/bucket/key?response-content-disposition=attachment; filename=example.txt"
        "&security-token=token&versionId=versionId?param1=value1"
    )
    assert signing.v1_signature("sk", sts) == "3GJoEOv5LX2ASp0HJk/hAk+qLJc="


def test_v1_vector_key_with_plus_not_encoded() -> None:
    # v2 test_v1.py test_auth_query_with_token: Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D
    query = [("versionId", "versionId"), ("security-token", "token")]
    sts = signing.v1_string_to_sign("GET", {}, "bucket", "key+123", query, date="1699808204")
    assert sts.endswith("/bucket/key+123?security-token=token&versionId=versionId")
    assert signing.v1_signature("sk", sts) == "jzKYRrM5y6Br0dRFPaTGOsbrDhY="


def test_v1_service_level_resource_is_slash() -> None:
    assert signing.v1_canonical_resource(None, None, [], signing.OSS2_SUBRESOURCES) == "/"
    assert signing.v1_canonical_resource("b", None, [], signing.OSS2_SUBRESOURCES) == "/b/"


def test_v1_candidates_differ_only_where_lists_differ() -> None:
    # rtc is signed by v2 (per-operation list) but not by oss2: both strings are candidates.
    candidates = signing.v1_string_to_sign_candidates("PUT", {"date": "d"}, "b", None, [("rtc", "")])
    assert [c.rsplit("\n", 1)[1] for c in candidates] == ["/b/", "/b/?rtc"]
    # acl is signed by everyone: one candidate only.
    assert len(signing.v1_string_to_sign_candidates("PUT", {"date": "d"}, "b", None, [("acl", "")])) == 1


# --- V4 vectors (v2 test_v4.py) ---------------------------------------------

V4_QUERY = [
    ("param1", "value1"),
    ("+param1", "value3"),
    ("|param1", "value4"),
    ("+param2", ""),
    ("|param2", ""),
    ("param2", ""),
]
V4_KEY = "1234+-/123/1.txt"


def _v4_headers(timestamp: str, content_type: str = "text/plain") -> dict[str, str]:
    return {
        "x-oss-head1": "value",
        "abc": "value",
        "zabc": "value",
        "xyz": "value",
        "content-type": content_type,
        "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
        "x-oss-date": timestamp,
    }


def _v4_sign(canonical: str, timestamp: str, region: str = "cn-hangzhou") -> str:
    scope = signing.v4_scope(timestamp[:8], region)
    sts = signing.v4_string_to_sign(timestamp, scope, canonical)
    return signing.v4_signature(signing.v4_signing_key("sk", timestamp[:8], region), sts)


def test_v4_canonical_request_shape() -> None:
    canonical = signing.v4_canonical_request(
        "PUT", "bucket", V4_KEY, V4_QUERY, _v4_headers("20231216T162057Z")
    )
    assert canonical == (
        "PUT\n/bucket/1234%2B-/123/1.txt\n"
        "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n"
        "content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n"
        "x-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
    )


def test_v4_vector_header() -> None:
    # v2 test_v4.py test_auth_header (signing time 1702743657)
    ts = "20231216T162057Z"
    canonical = signing.v4_canonical_request("PUT", "bucket", V4_KEY, V4_QUERY, _v4_headers(ts))
    assert _v4_sign(canonical, ts) == "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"


def test_v4_vector_header_with_token() -> None:
    # v2 test_v4.py test_auth_header_with_token (signing time 1702784856)
    ts = "20231217T034736Z"
    headers = _v4_headers(ts) | {"x-oss-security-token": "token"}
    canonical = signing.v4_canonical_request("PUT", "bucket", V4_KEY, V4_QUERY, headers)
    assert _v4_sign(canonical, ts) == "b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"


def test_v4_vector_header_with_additional_headers() -> None:
    # v2 test_v4.py test_auth_header_with_additional_headers (AdditionalHeaders=abc;zabc)
    ts = "20231216T172512Z"
    additional = signing.normalize_additional_headers(["ZAbc", "abc"])
    assert additional == ["abc", "zabc"]
    canonical = signing.v4_canonical_request("PUT", "bucket", V4_KEY, V4_QUERY, _v4_headers(ts), additional)
    assert "\nabc:value\n" in canonical and "\nabc;zabc\n" in canonical
    assert _v4_sign(canonical, ts) == "4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f"


def _presign_query(ts: str, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        *V4_QUERY,
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-date", ts),
        ("x-oss-expires", "599"),
        ("x-oss-credential", f"ak/{ts[:8]}/cn-hangzhou/oss/aliyun_v4_request"),
        *extra,
        ("x-oss-signature", "ignored: a presigned signature never signs itself"),
    ]


def _presign_headers() -> dict[str, str]:
    headers = _v4_headers("unused", "application/octet-stream")
    del headers["x-oss-content-sha256"], headers["x-oss-date"]
    return headers


def test_v4_vector_presigned() -> None:
    # v2 test_v4.py test_auth_query (signing time 1702781677, expiration +599 s)
    ts = "20231217T025437Z"
    canonical = signing.v4_canonical_request(
        "PUT",
        "bucket",
        V4_KEY,
        _presign_query(ts, []),
        _presign_headers(),
        (),
        frozenset(["x-oss-signature"]),
    )
    assert _v4_sign(canonical, ts) == "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"


def test_v4_vector_presigned_with_token() -> None:
    # v2 test_v4.py test_auth_query_with_token (signing time 1702785388)
    ts = "20231217T035628Z"
    query = _presign_query(ts, [("x-oss-security-token", "token")])
    canonical = signing.v4_canonical_request(
        "PUT", "bucket", V4_KEY, query, _presign_headers(), (), frozenset(["x-oss-signature"])
    )
    assert _v4_sign(canonical, ts) == "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"


def test_v4_vector_presigned_with_additional_headers() -> None:
    # v2 test_v4.py test_auth_query_with_additional_headers (signing time 1702783809)
    ts = "20231217T033009Z"
    query = _presign_query(ts, [("x-oss-additional-headers", "abc;zabc")])
    canonical = signing.v4_canonical_request(
        "PUT", "bucket", V4_KEY, query, _presign_headers(), ["abc", "zabc"], frozenset(["x-oss-signature"])
    )
    assert _v4_sign(canonical, ts) == "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"


def test_v4_uri_encode_reserved_characters() -> None:
    assert signing.v4_uri_encode("a b+c/d~e%2F", keep_slash=True) == "a%20b%2Bc/d~e%252F"
    assert signing.v4_uri_encode("a/b", keep_slash=False) == "a%2Fb"
    assert signing.v4_uri_encode("é", keep_slash=True) == "%C3%A9"


def test_v4_payload_hash_from_header() -> None:
    assert signing.v4_payload_hash({}) == "UNSIGNED-PAYLOAD"
    assert signing.v4_payload_hash({"x-oss-content-sha256": "abc"}) == "abc"


# --- agreement with the SDKs' own builders on random inputs -------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
_keys = st.lists(
    st.one_of(_text, st.sampled_from(["/", "+", " ", "%2F", "%", "?", "&", "="])), min_size=1
).map("".join)
_names = st.one_of(st.sampled_from(sorted(signing.ALL_KNOWN_SUBRESOURCES)), _text)
_params = st.dictionaries(_names, st.one_of(st.just(""), _text), max_size=5)
_headers = st.dictionaries(
    st.sampled_from(["x-oss-meta-a", "x-oss-meta-b", "content-type", "content-md5", "x-oss-acl", "range"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=10),
)


def _v2_request(method: str, key: str, params: dict[str, str], headers: dict[str, str]) -> HttpRequest:
    url = "http://127.0.0.1/bucket/" + quote(key)
    if params:
        url += "?" + urlencode(params, quote_via=quote)
    request = HttpRequest(method, url)
    request.headers.update(headers)
    return request


@settings(max_examples=80, deadline=None)
@given(key=_keys, params=_params, headers=_headers)
def test_v1_matches_v2_and_oss2(key: str, params: dict[str, str], headers: dict[str, str]) -> None:
    ctx = SigningContext(bucket="bucket", key=key, request=_v2_request("PUT", key, params, headers))
    v2_sts = SignerV1()._calc_string_to_sign(ctx)
    ours = signing.v1_string_to_sign(
        "PUT", headers, "bucket", key, list(params.items()), signing.V2_SUBRESOURCES
    )
    assert ours == v2_sts

    oss2_req = oss2.http.Request("PUT", "http://127.0.0.1/", params=params, headers=headers)
    oss2_sts = oss2.Auth("ak", "sk")._ProviderAuth__get_string_to_sign(oss2_req, "bucket", key)
    assert signing.v1_string_to_sign("PUT", headers, "bucket", key, list(params.items())) == oss2_sts


@settings(max_examples=80, deadline=None)
@given(key=_keys, params=_params, headers=_headers, additional=st.sets(st.sampled_from(["range", "abc"])))
def test_v4_canonical_matches_v2(
    key: str, params: dict[str, str], headers: dict[str, str], additional: set[str]
) -> None:
    request = _v2_request("GET", key, params, headers)
    ctx = SigningContext(
        bucket="bucket",
        key=key,
        request=request,
        region="cn-hangzhou",
        product="oss",
        credentials=StaticCredentialsProvider("ak", "sk").get_credentials(),
    )
    wanted = SignerV4()._common_additional_headers(request, additional)
    theirs = SignerV4()._calc_canonical_request(ctx, wanted)
    ours = signing.v4_canonical_request("GET", "bucket", key, list(params.items()), headers, list(wanted))
    assert ours == theirs
