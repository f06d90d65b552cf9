"""Server-side encryption: bytes encrypted at rest, plaintext to readers, key ids reported."""

from __future__ import annotations

import os

import oss2
import pytest
from oss2.models import ReplicationRule

from tests.integration.harness import FerryCluster, unique_bucket
from tests.integration.replication_helpers import DST, SRC, exists, wait_until

KMS = {"x-oss-server-side-encryption": "KMS"}


@pytest.fixture
def bucket(cluster: FerryCluster) -> oss2.Bucket:
    b = cluster.oss2_bucket(unique_bucket("sse"), region=SRC)
    b.create_bucket()
    return b


def _blob_files_containing(cluster: FerryCluster, needle: bytes) -> list[str]:
    """Files of the region (blob files, and the database where small objects live inline)."""
    found = []
    for root, _, files in os.walk(cluster.data_dir(SRC)):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                if needle in f.read():
                    found.append(name)
    return found


def test_kms_object_is_encrypted_at_rest_and_readable(cluster: FerryCluster, bucket: oss2.Bucket) -> None:
    secret = b"top secret payload " + os.urandom(16).hex().encode()
    data = secret * 1000
    put = bucket.put_object("s", data, headers=KMS)
    assert put.headers["x-oss-server-side-encryption"] == "KMS"
    key_id = put.headers["x-oss-server-side-encryption-key-id"]
    head = bucket.head_object("s")
    assert head.headers["x-oss-server-side-encryption"] == "KMS"
    assert head.headers["x-oss-server-side-encryption-key-id"] == key_id
    assert bucket.get_object("s").read() == data
    assert bucket.get_object("s", byte_range=(1000, 5000)).read() == data[1000:5001]
    assert _blob_files_containing(cluster, secret) == []  # nothing in plaintext on disk
    bucket.put_object("plain", secret)
    assert _blob_files_containing(cluster, secret)  # the check itself can find plaintext


def test_aes256_and_named_kms_key(bucket: oss2.Bucket) -> None:
    put = bucket.put_object("a", b"x" * 100, headers={"x-oss-server-side-encryption": "AES256"})
    assert put.headers["x-oss-server-side-encryption"] == "AES256"
    assert "x-oss-server-side-encryption-key-id" not in put.headers
    key_id = bucket.put_object("k", b"", headers=KMS).headers["x-oss-server-side-encryption-key-id"]
    named = bucket.put_object("n", b"y", headers={**KMS, "x-oss-server-side-encryption-key-id": key_id})
    assert named.headers["x-oss-server-side-encryption-key-id"] == key_id
    assert bucket.get_object("n").read() == b"y"


def test_copy_of_an_encrypted_object(bucket: oss2.Bucket) -> None:
    """As on OSS, a copy is encrypted as its own request (or the bucket's default) says."""
    bucket.put_object("src", b"copy me" * 50, headers=KMS)
    bucket.copy_object(bucket.bucket_name, "src", "plain")
    assert bucket.get_object("plain").read() == b"copy me" * 50
    assert "x-oss-server-side-encryption" not in bucket.head_object("plain").headers
    bucket.copy_object(bucket.bucket_name, "src", "dst", headers=KMS)
    assert bucket.get_object("dst").read() == b"copy me" * 50
    assert bucket.head_object("dst").headers["x-oss-server-side-encryption"] == "KMS"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-oss-server-side-encryption": "DES"}, "InvalidEncryptionAlgorithmError"),
        ({**KMS, "x-oss-server-side-encryption-key-id": "no-such-key"}, "InvalidArgument"),
        ({"x-oss-server-side-encryption-key-id": "k"}, "InvalidArgument"),
    ],
)
def test_bad_encryption_requests(bucket: oss2.Bucket, headers: dict[str, str], code: str) -> None:
    with pytest.raises(oss2.exceptions.OssError) as error:
        bucket.put_object("bad", b"x", headers=headers)
    assert (error.value.status, error.value.code) == (400, code)


def test_kms_objects_replicate_only_when_the_rule_enables_them(cluster: FerryCluster) -> None:
    src = cluster.oss2_bucket(unique_bucket("sse-src"), region=SRC)
    off = cluster.oss2_bucket(unique_bucket("sse-off"), region=DST)
    on = cluster.oss2_bucket(unique_bucket("sse-on"), region=DST)
    for b in (src, off, on):
        b.create_bucket()
    src.put_bucket_replication(
        ReplicationRule(target_bucket_name=off.bucket_name, target_bucket_location=DST)
    )
    src.put_bucket_replication(
        ReplicationRule(
            target_bucket_name=on.bucket_name,
            target_bucket_location=DST,
            sync_role_name="ferry-sync-role",
            sse_kms_encrypted_objects_status=ReplicationRule.ENABLED,
        )
    )
    src.put_object("enc", b"kms data" * 100, headers=KMS)
    src.put_object("plain", b"plain")
    wait_until(lambda: exists(on, "enc") and exists(off, "plain") and exists(on, "plain"))
    assert on.get_object("enc").read() == b"kms data" * 100
    assert on.head_object("enc").headers["x-oss-server-side-encryption"] == "KMS"
    assert not exists(off, "enc")
