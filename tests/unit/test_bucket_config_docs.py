"""Bucket configuration documents and rules: golden round trips through oss2's own XML code,
and the pure decisions (CORS matching, referer lists, website rules, retention)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import oss2
import pytest
from oss2 import models as m
from oss2 import xml_utils

from ferry.core import bucket_options as opts
from ferry.core import cors, referer, website, worm
from ferry.core import lifecycle as lc
from ferry.core.errors import OssError
from ferry.core.jsoncodec import from_json, to_json
from ferry.protocol import bucket_options_xml as oxml
from ferry.protocol import lifecycle_xml, website_xml


def _result(cls: type) -> object:
    return cls(SimpleNamespace(status=200, headers={}, request_id="r"))


# --- golden round trips: oss2 writes the request, Ferry stores and renders, oss2 parses ----------


def test_lifecycle_document_round_trip() -> None:
    rule = m.LifecycleRule(
        "r1",
        "中文前缀/",
        status=m.LifecycleRule.ENABLED,
        expiration=m.LifecycleExpiration(created_before_date=datetime.date(2016, 12, 20)),
        storage_transitions=[
            m.StorageTransition(created_before_date=datetime.date(2016, 12, 25), storage_class="IA")
        ],
        abort_multipart_upload=m.AbortMultipartUpload(days=3),
        tagging=m.Tagging(m.TaggingRule()),
        filter=m.LifecycleFilter([m.FilterNot("中文前缀/not", m.FilterNotTag("k", "v"))], 10, 20),
    )
    rule.tagging.tag_set.add("team", "a b")
    body = xml_utils.to_put_bucket_lifecycle(m.BucketLifecycle([rule]))
    config = lc.validate(lifecycle_xml.parse_lifecycle(body))
    stored = from_json(lc.LifecycleConfiguration, to_json(config))
    assert stored == config
    result = _result(m.GetBucketLifecycleResult)
    xml_utils.parse_get_bucket_lifecycle(result, lifecycle_xml.lifecycle(stored))
    got = result.rules[0]  # type: ignore[attr-defined]
    assert (got.id, got.prefix, got.status) == ("r1", "中文前缀/", "Enabled")
    assert got.expiration.created_before_date == datetime.date(2016, 12, 20)
    assert got.storage_transitions[0].created_before_date == datetime.date(2016, 12, 25)
    assert got.abort_multipart_upload.days == 3
    assert got.tagging.tag_set.tagging_rule == {"team": "a b"}
    assert got.filter.filter_not[0].tag.value == "v"
    assert (got.filter.object_size_greater_than, got.filter.object_size_less_than) == (10, 20)


def test_versioned_lifecycle_round_trip() -> None:
    rule = m.LifecycleRule(
        "v",
        "p/",
        status=m.LifecycleRule.ENABLED,
        expiration=m.LifecycleExpiration(expired_detete_marker=True),
        noncurrent_version_expiration=m.NoncurrentVersionExpiration(30),
        noncurrent_version_sotrage_transitions=[m.NoncurrentVersionStorageTransition(12, "IA")],
    )
    config = lc.validate(
        lifecycle_xml.parse_lifecycle(xml_utils.to_put_bucket_lifecycle(m.BucketLifecycle([rule])))
    )
    result = _result(m.GetBucketLifecycleResult)
    xml_utils.parse_get_bucket_lifecycle(result, lifecycle_xml.lifecycle(config))
    got = result.rules[0]  # type: ignore[attr-defined]
    assert got.expiration.expired_detete_marker is True
    assert got.noncurrent_version_expiration.noncurrent_days == 30
    assert got.noncurrent_version_sotrage_transitions[0].noncurrent_days == 12


def test_malformed_lifecycle_is_malformed_xml() -> None:
    with pytest.raises(OssError) as error:
        lifecycle_xml.parse_lifecycle(b"<This is a bad xml></bad as I am>")
    assert error.value.code == "MalformedXML"


def test_cors_document_round_trip() -> None:
    rule = m.CorsRule(["*"], ["GET", "HEAD"], ["*"], ["ETag"], 100)
    config = cors.validate(oxml.parse_cors(xml_utils.to_put_bucket_cors(m.BucketCors([rule], True))))
    result = _result(m.GetBucketCorsResult)
    xml_utils.parse_get_bucket_cors(result, oxml.cors(from_json(cors.CorsConfiguration, to_json(config))))
    assert result.rules[0].allowed_methods == ["GET", "HEAD"]  # type: ignore[attr-defined]
    assert result.response_vary is True  # type: ignore[attr-defined]


def test_website_document_round_trip() -> None:
    redirect = m.Redirect(
        redirect_type="Mirror",
        mirror_url="http://origin.test/",
        mirror_url_slave="http://slave.test/",
        mirror_url_probe="http://origin.test/probe",
        mirror_pass_query_string=True,
        mirror_follow_redirect=False,
        mirror_check_md5=True,
        mirror_headers=m.RedirectMirrorHeaders(True, ["a"], ["b"], [m.MirrorHeadersSet("c", "d")]),
    )
    condition = m.Condition("img/", 404, [m.ConditionInlcudeHeader("host", "h")])
    body = xml_utils.to_put_bucket_website(
        m.BucketWebsite("index.html", "404.html", [m.RoutingRule(1, condition, redirect)])
    )
    config = website.validate(website_xml.parse_website(body))
    result = _result(m.GetBucketWebsiteResult)
    xml_utils.parse_get_bucket_website(
        result, website_xml.website(from_json(website.WebsiteConfiguration, to_json(config)))
    )
    got = result.rules[0].redirect  # type: ignore[attr-defined]
    assert (got.mirror_url_slave, got.mirror_check_md5, got.pass_query_string) == (
        "http://slave.test/",
        True,
        True,
    )
    assert got.mirror_headers.set_list[0].value == "d"
    assert result.index_file == "index.html"  # type: ignore[attr-defined]


def test_small_documents_round_trip() -> None:
    referer_config = oxml.parse_referer(
        xml_utils.to_put_bucket_referer(m.BucketReferer(False, ["a", "中文"], False, ["x"]))
    )
    result = _result(m.GetBucketRefererResult)
    xml_utils.parse_get_bucket_referer(result, oxml.referer(referer_config))
    assert (result.referers, result.black_referers, result.allow_truncate_query_string) == (  # type: ignore[attr-defined]
        ["a", "中文"],
        ["x"],
        False,
    )
    rule = m.ServerSideEncryptionRule("KMS", None, "SM4")
    encryption = oxml.parse_encryption(xml_utils.to_put_bucket_encryption(rule))
    enc_result = _result(m.GetServerSideEncryptionResult)
    xml_utils.parse_get_bucket_encryption(enc_result, oxml.encryption_rule(encryption))
    assert (enc_result.sse_algorithm, enc_result.kms_master_keyid, enc_result.kms_data_encryption) == (  # type: ignore[attr-defined]
        "KMS",
        None,
        "SM4",
    )
    assert oxml.parse_logging(xml_utils.to_put_bucket_logging(m.BucketLogging("", ""))) is None
    assert (
        oxml.parse_request_payment(xml_utils.to_put_bucket_request_payment("Requester")).payer == "Requester"
    )


def test_encryption_rules_follow_oss() -> None:
    assert opts.check_default_encryption("AES256", None, "SM4").data_encryption is None
    with pytest.raises(OssError) as error:
        opts.check_default_encryption("AES256", "key", None)
    assert error.value.code == "InvalidArgument"
    with pytest.raises(OssError) as error:
        opts.check_default_encryption("random", None, None)
    assert error.value.code == "InvalidEncryptionAlgorithmError"


# --- decisions -------------------------------------------------------------------------------------


def test_cors_matching() -> None:
    config = cors.CorsConfiguration(
        (
            cors.CorsRule(("https://*.a.com",), ("GET",), ("x-oss-*",)),
            cors.CorsRule(("*",), ("PUT",)),
        )
    )
    assert cors.match(config, "https://www.a.com", "GET", ["X-OSS-Meta-K"]) is config.rules[0]
    assert cors.match(config, "https://www.a.com", "GET", ["authorization"]) is None
    assert cors.match(config, "http://b.com", "PUT") is config.rules[1]
    assert cors.match(config, "http://b.com", "GET") is None
    with pytest.raises(OssError):
        cors.validate(cors.CorsConfiguration((cors.CorsRule(("*",), ("PATCH",)),)))


def test_referer_lists() -> None:
    config = referer.RefererConfiguration(
        allow_empty_referer=False, referers=("*.example.com/*", "http://?.test"), black_referers=("*bad*",)
    )
    assert referer.allows(config, "https://www.example.com/x?y=1")
    assert referer.allows(config, "http://a.test?q=1")  # the query string is cut off before matching
    assert not referer.allows(config, "https://bad.example.com/x")
    assert not referer.allows(config, "")
    assert referer.allows(referer.RefererConfiguration(), None)


def test_website_rules_and_index() -> None:
    rules = (
        website.RoutingRule(
            2,
            website.RoutingCondition(key_prefix_equals="a/"),
            website.Redirect("Internal", replace_key_prefix_with="b/"),
        ),
        website.RoutingRule(
            1,
            website.RoutingCondition(key_prefix_equals="a/x", http_error_code_returned_equals=404),
            website.Redirect("Internal", replace_key_with="${key}.html"),
        ),
    )
    config = website.WebsiteConfiguration(index_suffix="index.html", support_sub_dir=True, rules=rules)
    first = website.rule_for(config, "a/x", 404, {})
    assert first is rules[1] and website.rewritten_key(first, "a/x") == "a/x.html"
    second = website.rule_for(config, "a/y", 404, {})
    assert second is rules[0] and website.rewritten_key(second, "a/y") == "b/y"
    assert website.index_key(config, "docs/") == "docs/index.html"
    assert website.index_key(config, "docs") is None
    assert website.index_key(website.WebsiteConfiguration(index_suffix="i.html"), "docs/") == "i.html"


def test_retention_policy_life_cycle() -> None:
    policy = worm.initiate(None, 1, now=0.0)
    assert worm.protects(policy, version_created_at=0.0, now=100.0)
    assert worm.in_force(policy, now=worm.IN_PROGRESS_SECONDS) is None  # not completed within a day
    locked = worm.complete(policy, policy.worm_id, now=10.0)
    assert worm.in_force(locked, now=1e9) is locked
    assert not worm.protects(locked, version_created_at=0.0, now=worm.DAY + 1)
    with pytest.raises(OssError) as error:
        worm.abort(locked, now=20.0)
    assert error.value.code == "WORMConfigurationLocked"
    with pytest.raises(OssError) as error:
        worm.extend(locked, locked.worm_id, 1, now=20.0)
    assert error.value.code == "InvalidWORMConfiguration"
    assert worm.extend(locked, locked.worm_id, 5, now=20.0).retention_days == 5


def test_json_codec_keeps_optional_and_nested_values() -> None:
    value = website.WebsiteConfiguration(
        error_key="e",
        rules=(
            website.RoutingRule(
                1,
                website.RoutingCondition(include_headers=(website.IncludeHeader("h", "v"),)),
                website.Redirect("External"),
            ),
        ),
    )
    assert from_json(website.WebsiteConfiguration, to_json(value)) == value
    assert oss2.__version__  # the golden tests above ran against this oss2
