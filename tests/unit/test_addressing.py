"""From request target and Host header to (bucket, key, query), as the three SDKs send them."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.protocol.addressing import parse_query, resolve, split_host

ENDPOINTS = frozenset({"ferry.test", "127.0.0.1"})


def target(raw: str, host: str) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
    t = resolve(raw, host, ENDPOINTS)
    return t.bucket, t.key, t.query


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:9100",
        "127.0.0.1",
        "10.1.2.3:80",
        "localhost:9100",
        "localhost",
        "LOCALHOST:9100",
        "[::1]:9100",
        "[::1]",
        "ferry.test",
        "ferry.test:9100",
        "oss-cn-hangzhou.aliyuncs.com",
        "oss-cn-beijing.aliyuncs.com:443",
        "",
    ],
)
def test_path_style_hosts(host: str) -> None:
    assert target("/bkt/dir/obj.txt", host) == ("bkt", "dir/obj.txt", ())
    assert target("/bkt", host) == ("bkt", None, ())
    assert target("/bkt/", host) == ("bkt", None, ())
    assert target("/", host) == (None, None, ())


def test_service_call_with_query() -> None:
    assert target("/?prefix=a&max-keys=10", "127.0.0.1:9100") == (
        None,
        None,
        (("prefix", "a"), ("max-keys", "10")),
    )


def test_oss2_and_v2_key_encodings_give_the_same_key() -> None:
    oss2_style = target("/bkt/a%2Fb%2Fc.txt", "127.0.0.1:9100")
    v2_style = target("/bkt/a/b/c.txt", "127.0.0.1:9100")
    assert oss2_style == v2_style == ("bkt", "a/b/c.txt", ())


@pytest.mark.parametrize(
    ("raw_path", "key"),
    [
        ("/bkt/100%25", "100%"),
        ("/bkt/%2525", "%25"),
        ("/bkt/a+b", "a+b"),  # a plus in the PATH is a plus
        ("/bkt/a%2Bb", "a+b"),
        ("/bkt/a%20b", "a b"),
        ("/bkt/%E6%96%87%E4%BB%B6/%C3%BC", "文件/ü"),
        ("/bkt/%F0%9F%98%80", "\U0001f600"),
        ("/bkt/q%3Fx%23y", "q?x#y"),
        ("/bkt//leading", "/leading"),
        ("/bkt/%2Fleading", "/leading"),
        ("/bkt/a//b", "a//b"),
        ("/bkt/trailing/", "trailing/"),
    ],
)
def test_path_keys_are_percent_decoded_once(raw_path: str, key: str) -> None:
    assert target(raw_path, "127.0.0.1:9100") == ("bkt", key, ())


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("bkt.oss-cn-hangzhou.aliyuncs.com", "bkt"),
        ("bkt.oss-cn-hangzhou.aliyuncs.com:9100", "bkt"),
        ("BKT.OSS-CN-HANGZHOU.ALIYUNCS.COM", "bkt"),
        ("bkt.example.com", "bkt"),
        ("my-bucket.ferry.test", "my-bucket"),
    ],
)
def test_virtual_host_style(host: str, bucket: str) -> None:
    assert target("/dir/k%2Bx+y", host) == (bucket, "dir/k+x+y", ())
    assert target("/", host) == (bucket, None, ())
    assert target("/?acl", host) == (bucket, None, (("acl", ""),))


def test_ali_oss_service_call_has_no_bucket() -> None:
    # ali-oss with an IP endpoint puts ".<endpoint>" in Host for service-level calls.
    assert target("/", ".oss-cn-hangzhou.aliyuncs.com") == (None, None, ())
    assert target("/?max-keys=5", ".oss-cn-hangzhou.aliyuncs.com") == (None, None, (("max-keys", "5"),))


def test_ali_oss_bucket_call_names_bucket_in_host() -> None:
    assert target("/a/b.txt", "bkt.oss-cn-hangzhou.aliyuncs.com") == ("bkt", "a/b.txt", ())


def test_absolute_form_virtual_host() -> None:
    got = target("http://bkt.oss-ap-south-1.aliyuncs.com/k?acl", "ignored.example.com")
    assert got == ("bkt", "k", (("acl", ""),))
    got = target("http://bkt.oss-ap-south-1.aliyuncs.com/?replicationLocation", "x")
    assert got == ("bkt", None, (("replicationLocation", ""),))


def test_absolute_form_path_style() -> None:
    assert target("http://127.0.0.1:9100/b/k", "other") == ("b", "k", ())
    assert target("http://127.0.0.1:9100/b/a%2Fb?acl=", "other") == ("b", "a/b", (("acl", ""),))
    assert target("https://localhost/b", "") == ("b", None, ())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("k", (("k", ""),)),
        ("k=", (("k", ""),)),
        ("a=1&b", (("a", "1"), ("b", ""))),
        ("prefix=a+b", (("prefix", "a b"),)),
        ("prefix=a%2Bb", (("prefix", "a+b"),)),
        ("prefix=a%20b", (("prefix", "a b"),)),
        ("prefix=%E6%96%87", (("prefix", "文"),)),
        ("marker=x%3Dy%26z", (("marker", "x=y&z"),)),
        ("&&a=1&", (("a", "1"),)),
        ("", ()),
        ("replicationProgress&rule-id=r-1", (("replicationProgress", ""), ("rule-id", "r-1"))),
    ],
)
def test_query_decoding(raw: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert parse_query(raw) == expected
    assert resolve("/b?" + raw, "127.0.0.1", ENDPOINTS).query == expected


def test_split_host() -> None:
    assert split_host("Example.COM:80") == "example.com"
    assert split_host("[::1]:9100") == "::1"
    assert split_host("::1") == "::1"
    assert split_host(" 127.0.0.1 ") == "127.0.0.1"


KEY_ALPHABET = st.characters(
    blacklist_categories=("Cs",),  # lone surrogates cannot be sent as UTF-8
    blacklist_characters="\x00",
)
KEYS = st.text(
    st.one_of(st.sampled_from(list("/+% ?#&=~.")), KEY_ALPHABET),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(key=KEYS)
def test_oss2_and_v2_path_encodings_resolve_to_the_same_key(key: str) -> None:
    oss2_path = "/bkt/" + quote(key, safe="")
    v2_path = "/bkt/" + quote(key, safe="/")
    a = resolve(oss2_path, "127.0.0.1:9100", ENDPOINTS)
    b = resolve(v2_path, "127.0.0.1:9100", ENDPOINTS)
    assert a == b
    assert a.bucket == "bkt"
    assert a.key == key
    virtual = resolve("/" + quote(key, safe="/"), "bkt.oss-cn-hangzhou.aliyuncs.com", ENDPOINTS)
    assert (virtual.bucket, virtual.key) == ("bkt", key)
