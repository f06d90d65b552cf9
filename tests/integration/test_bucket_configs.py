"""Bucket configurations over real requests: stored, read back, and in effect.

CORS (rules and preflight), referer, website (index document, rewrites,
redirects, mirror back-to-origin), logging, tags (and ListBuckets by tag),
default encryption, requester pays, public access block, storage capacity,
retention (WORM), with oss2 and alibabacloud-oss-v2.
"""

from __future__ import annotations

import datetime
import http.server
import threading
import time
from collections.abc import Callable, Iterator

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2.models import (
    BucketCors,
    BucketLogging,
    BucketReferer,
    BucketWebsite,
    Condition,
    CorsRule,
    Redirect,
    RoutingRule,
    ServerSideEncryptionRule,
    Tagging,
    TaggingRule,
)

from tests.integration.harness import FerryCluster, unique_bucket


@pytest.fixture
def bucket(cluster: FerryCluster) -> oss2.Bucket:
    b = cluster.oss2_bucket(unique_bucket("cfg"))
    b.create_bucket()
    return b


def _anonymous(cluster: FerryCluster, name: str) -> oss2.Bucket:
    return oss2.Bucket(oss2.AnonymousAuth(), cluster.region().endpoint, name)


# --- CORS -----------------------------------------------------------------------------


def test_cors_rules_answer_preflights_and_decorate_responses(
    cluster: FerryCluster, bucket: oss2.Bucket
) -> None:
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()
    rule = CorsRule(
        allowed_origins=["https://*.example.com"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["x-oss-*", "content-type"],
        expose_headers=["ETag"],
        max_age_seconds=600,
    )
    bucket.put_bucket_cors(BucketCors([rule], response_vary=True))
    got = bucket.get_bucket_cors()
    assert got.rules[0].allowed_origins == ["https://*.example.com"]
    assert got.rules[0].max_age_seconds == 600 and got.response_vary is True
    bucket.put_object("k", b"cors")

    url = f"{cluster.region().endpoint}/{bucket.bucket_name}/k"
    ok = requests.options(
        url,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-oss-meta-a, Content-Type",
        },
        timeout=10,
    )
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert ok.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert ok.headers["Access-Control-Max-Age"] == "600"
    refused = requests.options(
        url, headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"}, timeout=10
    )
    assert refused.status_code == 403
    assert "<Code>AccessForbidden</Code>" in refused.text
    missing = requests.options(url, headers={"Access-Control-Request-Method": "GET"}, timeout=10)
    assert missing.status_code == 400

    # An actual cross-origin GET gets the rule's headers.
    result = bucket.get_object("k", headers={"Origin": "https://app.example.com"})
    assert result.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert result.headers["Access-Control-Expose-Headers"] == "ETag"
    assert result.headers["Vary"] == "Origin"

    bucket.delete_bucket_cors()
    bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()


def test_cors_with_the_v2_sdk(cluster: FerryCluster) -> None:
    client = cluster.v2_client()
    name = unique_bucket("cors2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    config = oss.CORSConfiguration(
        cors_rules=[oss.CORSRule(allowed_origins=["*"], allowed_methods=["GET"], max_age_seconds=5)]
    )
    client.put_bucket_cors(oss.PutBucketCorsRequest(bucket=name, cors_configuration=config))
    got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=name))
    assert got.cors_configuration.cors_rules[0].allowed_methods == ["GET"]
    client.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"x"))
    option = client.option_object(
        oss.OptionObjectRequest(
            bucket=name, key="k", origin="https://any.test", access_control_request_method="GET"
        )
    )
    assert option.access_control_allow_origin == "*"
    assert option.access_control_max_age == 5


def test_invalid_cors_rules_name_the_argument(bucket: oss2.Bucket) -> None:
    rule = CorsRule(allowed_origins=["*"], allowed_methods=["GET"], max_age_seconds=-1)
    with pytest.raises(oss2.exceptions.InvalidArgument) as error:
        bucket.put_bucket_cors(BucketCors([rule]))
    assert (error.value.details["ArgumentName"], error.value.details["ArgumentValue"]) == (
        "MaxAgeSeconds",
        "-1",
    )


# --- referer ----------------------------------------------------------------------------


def test_referer_lists_guard_anonymous_access(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    default = bucket.get_bucket_referer()
    assert default.allow_empty_referer is True and default.referers == []
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    bucket.put_object("pic", b"image")
    bucket.put_bucket_referer(
        BucketReferer(False, ["https://*.example.com/*"], black_referers=["https://bad.example.com/*"])
    )
    got = bucket.get_bucket_referer()
    assert got.referers == ["https://*.example.com/*"] and got.black_referers == ["https://bad.example.com/*"]
    url = f"{cluster.region().endpoint}/{bucket.bucket_name}/pic"
    assert (
        requests.get(url, headers={"Referer": "https://www.example.com/page?q=1"}, timeout=10).status_code
        == 200
    )
    assert requests.get(url, headers={"Referer": "https://bad.example.com/"}, timeout=10).status_code == 403
    assert requests.get(url, headers={"Referer": "https://other.test/"}, timeout=10).status_code == 403
    assert requests.get(url, timeout=10).status_code == 403  # no Referer, and empty ones are not allowed
    assert bucket.get_object("pic").read() == b"image"  # signed requests are not affected


# --- website ----------------------------------------------------------------------------


class _Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/mirrored/"):
            body = b"from the origin"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_website_index_rewrites_redirects_and_mirror(
    cluster: FerryCluster, bucket: oss2.Bucket, origin: str
) -> None:
    with pytest.raises(oss2.exceptions.NoSuchWebsite):
        bucket.get_bucket_website()
    rules = [
        RoutingRule(
            1,
            Condition(key_prefix_equals="old/", http_err_code_return_equals=404),
            Redirect(redirect_type="Internal", replace_key_prefix_with="new/"),
        ),
        RoutingRule(
            2,
            Condition(key_prefix_equals="away/", http_err_code_return_equals=404),
            Redirect(
                redirect_type="External",
                host_name="elsewhere.test",
                proto="https",
                http_redirect_code=301,
                pass_query_string=False,
            ),
        ),
        RoutingRule(
            3,
            Condition(key_prefix_equals="mirrored/", http_err_code_return_equals=404),
            Redirect(
                redirect_type="Mirror",
                mirror_url=origin,
                mirror_pass_query_string=False,
                mirror_follow_redirect=True,
                mirror_check_md5=False,
            ),
        ),
    ]
    bucket.put_bucket_website(BucketWebsite("index.html", "error.html", rules))
    got = bucket.get_bucket_website()
    assert (got.index_file, got.error_file, len(got.rules)) == ("index.html", "error.html", 3)

    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)  # website visitors are anonymous
    bucket.put_object("index.html", b"home")
    bucket.put_object("new/page", b"moved here")
    assert bucket.get_object("docs/").read() == b"home"  # a directory-like key gets the index
    assert bucket.get_object("old/page").read() == b"moved here"
    response = requests.get(
        f"{cluster.region().endpoint}/{bucket.bucket_name}/away/x", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://elsewhere.test/away/x"
    assert bucket.get_object("mirrored/a.txt").read() == b"from the origin"
    assert bucket.head_object("mirrored/a.txt").content_type == "text/plain"  # stored in the bucket now
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("plain-miss")
    bucket.put_object("error.html", b"not here")
    page = requests.get(f"{cluster.region().endpoint}/{bucket.bucket_name}/plain-miss", timeout=10)
    assert (page.status_code, page.content) == (404, b"not here")  # visitors get the error document

    bucket.delete_bucket_website()
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("docs/")


# --- logging, tags ------------------------------------------------------------------------


def test_logging_needs_an_existing_target_of_the_same_owner(
    cluster: FerryCluster, bucket: oss2.Bucket
) -> None:
    assert bucket.get_bucket_logging().target_bucket == ""
    target = cluster.oss2_bucket(unique_bucket("logs"))
    target.create_bucket()
    bucket.put_bucket_logging(BucketLogging(target.bucket_name, "access/"))
    got = bucket.get_bucket_logging()
    assert (got.target_bucket, got.target_prefix) == (target.bucket_name, "access/")
    info = bucket.get_bucket_info()
    assert info.bucket_encryption_rule.sse_algorithm is None
    with pytest.raises(oss2.exceptions.ServerError) as error:
        bucket.put_bucket_logging(BucketLogging(unique_bucket("missing"), "x/"))
    assert error.value.code == "InvalidTargetBucketForLogging"
    bucket.delete_bucket_logging()
    assert bucket.get_bucket_logging().target_bucket == ""


def test_bucket_tags_and_listing_by_tag(cluster: FerryCluster) -> None:
    tagged = cluster.oss2_bucket(unique_bucket("tagged"))
    plain = cluster.oss2_bucket(unique_bucket("plain"))
    tagged.create_bucket()
    plain.create_bucket()
    rule = TaggingRule()
    rule.add("team", "storage")
    rule.add("env", "test")
    tagged.put_bucket_tagging(Tagging(rule))
    assert dict(tagged.get_bucket_tagging().tag_set.tagging_rule) == {"team": "storage", "env": "test"}
    assert plain.get_bucket_tagging().tag_set.tagging_rule == {}
    service = cluster.oss2_service()
    names = [b.name for b in service.list_buckets(params={"tag-key": "team", "tag-value": "storage"}).buckets]
    assert tagged.bucket_name in names and plain.bucket_name not in names
    tagged.delete_bucket_tagging(params={"tagging": "env"})
    assert dict(tagged.get_bucket_tagging().tag_set.tagging_rule) == {"team": "storage"}
    tagged.delete_bucket_tagging()
    assert tagged.get_bucket_tagging().tag_set.tagging_rule == {}


# --- default encryption ---------------------------------------------------------------------


def test_default_encryption_applies_to_writes_and_copies(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchServerSideEncryptionRule):
        bucket.get_bucket_encryption()
    rule = ServerSideEncryptionRule()
    rule.sse_algorithm = "SM4"
    bucket.put_bucket_encryption(rule)
    assert bucket.get_bucket_info().bucket_encryption_rule.sse_algorithm == "SM4"
    result = bucket.put_object("secret", b"sm4 protected bytes")
    assert result.headers["x-oss-server-side-encryption"] == "SM4"
    assert bucket.get_object("secret", byte_range=(4, 12)).read() == b"protected"
    blob_files = list(cluster.data_dir(cluster.region().name).rglob("*"))
    assert not any(p.is_file() and b"sm4 protected bytes" in p.read_bytes() for p in blob_files)

    # A copy asking for other encryption is written again; one asking for none is plaintext.
    bucket.delete_bucket_encryption()
    bucket.copy_object(
        bucket.bucket_name, "secret", "as-aes", headers={"x-oss-server-side-encryption": "AES256"}
    )
    assert bucket.head_object("as-aes").headers["x-oss-server-side-encryption"] == "AES256"
    bucket.copy_object(bucket.bucket_name, "secret", "plain")
    assert "x-oss-server-side-encryption" not in bucket.head_object("plain").headers
    assert bucket.get_object("plain").read() == bucket.get_object("as-aes").read() == b"sm4 protected bytes"

    kms = ServerSideEncryptionRule()
    kms.sse_algorithm, kms.kms_data_encryption = "KMS", "SM4"
    bucket.put_bucket_encryption(kms)
    headers = bucket.put_object("kms", b"k").headers
    assert headers["x-oss-server-side-data-encryption"] == "SM4"
    assert headers["x-oss-server-side-encryption-key-id"]
    bad = ServerSideEncryptionRule()
    bad.sse_algorithm = "DES"
    with pytest.raises(oss2.exceptions.InvalidEncryptionAlgorithmError):
        bucket.put_bucket_encryption(bad)


def test_put_bucket_with_sse_headers_sets_the_default(cluster: FerryCluster) -> None:
    b = cluster.oss2_bucket(unique_bucket("ssehdr"))
    b.create_bucket(
        headers={"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": "kid"}
    )
    rule = b.get_bucket_encryption()
    assert (rule.sse_algorithm, rule.kms_master_keyid) == ("KMS", "kid")


# --- requester pays, public access block, capacity ----------------------------------------------


def test_requester_pays_refuses_anonymous_readers(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    assert bucket.get_bucket_request_payment().payer == "BucketOwner"
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    bucket.put_object("k", b"paid")
    assert _anonymous(cluster, bucket.bucket_name).get_object("k").read() == b"paid"
    bucket.put_bucket_request_payment("Requester")
    assert bucket.get_bucket_request_payment().payer == "Requester"
    with pytest.raises(oss2.exceptions.AccessDenied):
        _anonymous(cluster, bucket.bucket_name).get_object("k")
    assert bucket.get_object("k").read() == b"paid"  # the owner pays anyway


def test_public_access_block_hides_public_acls(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    bucket.put_object("k", b"public")
    anonymous = _anonymous(cluster, bucket.bucket_name)
    assert anonymous.get_object("k").read() == b"public"
    bucket.put_bucket_public_access_block(True)
    assert bucket.get_bucket_public_access_block().block_public_access is True
    with pytest.raises(oss2.exceptions.AccessDenied):
        anonymous.get_object("k")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    bucket.delete_bucket_public_access_block()
    assert anonymous.get_object("k").read() == b"public"


def test_storage_capacity_limits_writes(bucket: oss2.Bucket) -> None:
    assert bucket.get_bucket_storage_capacity().storage_capacity == -1
    bucket.set_bucket_storage_capacity(oss2.models.BucketUserQos(100))
    assert bucket.get_bucket_storage_capacity().storage_capacity == 100
    bucket.put_object("fits", b"x" * 1024)
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.set_bucket_storage_capacity(oss2.models.BucketUserQos(-2))
    bucket.set_bucket_storage_capacity(oss2.models.BucketUserQos(0))
    with pytest.raises(oss2.exceptions.ServerError) as error:
        bucket.put_object("full", b"x")
    assert (error.value.status, error.value.code) == (403, "InsufficientStorageSpace")
    bucket.delete_object("fits")
    bucket.put_object("empty", b"")  # nothing stored, nothing added: still within 0 GB


# --- retention (WORM) --------------------------------------------------------------------------


def test_worm_protects_objects_until_retention_ends(bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.get_bucket_worm()
    bucket.put_object("kept", b"1")
    worm_id = bucket.init_bucket_worm(1).worm_id
    with pytest.raises(oss2.exceptions.ServerError) as error:
        bucket.delete_object("kept")
    assert (error.value.status, error.value.code) == (409, "FileImmutable")
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.put_object("kept", b"overwrite")
    bucket.put_object("new", b"new objects are fine")
    with pytest.raises(oss2.exceptions.InvalidWORMConfiguration):
        bucket.extend_bucket_worm(worm_id, 2)  # only a locked policy can be extended
    bucket.complete_bucket_worm(worm_id)
    bucket.extend_bucket_worm(worm_id, 3)
    got = bucket.get_bucket_worm()
    assert (got.worm_id, got.state, got.retention_period_days) == (worm_id, "Locked", 3)
    with pytest.raises(oss2.exceptions.WORMConfigurationLocked):
        bucket.abort_bucket_worm()


# --- lifecycle configuration (the sweep itself: tests/unit/test_lifecycle.py and below) ---------


def test_lifecycle_round_trip_with_both_sdks(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule, StorageTransition

    rule = LifecycleRule(
        "r1",
        "logs/",
        status=LifecycleRule.ENABLED,
        expiration=LifecycleExpiration(days=30),
        storage_transitions=[StorageTransition(days=10, storage_class=oss2.BUCKET_STORAGE_CLASS_IA)],
    )
    bucket.put_bucket_lifecycle(BucketLifecycle([rule]))
    got = cluster.v2_client().get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=bucket.bucket_name))
    v2_rule = got.lifecycle_configuration.rules[0]
    assert (v2_rule.id, v2_rule.prefix, v2_rule.expiration.days) == ("r1", "logs/", 30)
    assert v2_rule.transitions[0].storage_class == "IA"
    bucket.delete_bucket_lifecycle()
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerryCluster]:
    """A cluster whose lifecycle sweep and access-log writer run every fraction of a second."""
    extra = "\n[lifecycle]\ninterval_seconds = 0.3\n\n[access_log]\nflush_seconds = 0.3\n"
    c = FerryCluster.create(tmp_path_factory.mktemp("quick"), extra).start()
    try:
        yield c
    finally:
        c.stop()


def _eventually(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


def test_lifecycle_sweep_expires_objects(quick: FerryCluster) -> None:
    from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule

    b = quick.oss2_bucket(unique_bucket("sweep"))
    b.create_bucket()
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    b.put_object("tmp/a", b"goes")
    b.put_object("keep/b", b"stays")
    cutoff = datetime.date.today() + datetime.timedelta(days=2)
    rule = LifecycleRule(
        "expire-tmp",
        "tmp/",
        status=LifecycleRule.ENABLED,
        expiration=LifecycleExpiration(created_before_date=cutoff),
    )
    b.put_bucket_lifecycle(BucketLifecycle([rule]))
    assert _eventually(lambda: not b.object_exists("tmp/a"))
    versions = b.list_object_versions()
    assert [m.key for m in versions.delete_marker] == ["tmp/a"]  # versioned: hidden, not erased
    assert b.object_exists("keep/b")


def test_access_logs_are_written_to_the_target_bucket(quick: FerryCluster) -> None:
    source = quick.oss2_bucket(unique_bucket("logged"))
    target = quick.oss2_bucket(unique_bucket("logs"))
    source.create_bucket()
    target.create_bucket()
    source.put_bucket_logging(BucketLogging(target.bucket_name, "access/"))
    source.put_object("seen", b"x")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        source.get_object("unseen")

    def logs() -> list[str]:
        return [o.key for o in oss2.ObjectIterator(target, prefix="access/")]

    assert _eventually(lambda: any("seen" in target.get_object(k).read().decode() for k in logs()))
    assert all(k.startswith(f"access/{source.bucket_name}") for k in logs())
    text = "".join(target.get_object(k).read().decode() for k in logs())
    assert '"PutObject"' in text and '"NoSuchKey"' in text and source.bucket_name in text


# --- request-level features ---------------------------------------------------------------------


def test_traffic_limit_paces_uploads_and_downloads(bucket: oss2.Bucket) -> None:
    body = b"x" * (200 * 1024)  # 2 s at 100 KB/s
    started = time.monotonic()
    bucket.put_object("slow", body, headers={"x-oss-traffic-limit": "819200"})
    assert time.monotonic() - started > 1.5
    started = time.monotonic()
    assert bucket.get_object("slow", headers={"x-oss-traffic-limit": "819200"}).read() == body
    assert time.monotonic() - started > 1.5
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("fast", b"x", headers={"x-oss-traffic-limit": "100"})


def test_signature_v2_and_head_errors(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    v2 = oss2.Bucket(oss2.AuthV2(*_credentials()), cluster.region().endpoint, bucket.bucket_name)
    v2.put_object("v2 key/ü", b"signed with OSS2")
    assert v2.get_object("v2 key/ü").read() == b"signed with OSS2"
    url = v2.sign_url("GET", "v2 key/ü", 60)
    assert requests.get(url, timeout=10).content == b"signed with OSS2"
    with pytest.raises(oss2.exceptions.NoSuchKey) as error:
        bucket.get_object_meta("missing")  # a HEAD: the error travels in x-oss-err
    assert error.value.ec == "0026-00000001"


def _credentials() -> tuple[str, str]:
    from tests.integration.harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET

    return ACCESS_KEY_ID, ACCESS_KEY_SECRET
