"""A smoke test through the Node SDK ``ali-oss`` (skipped, with the reason, where node/npm are missing).

``ali-oss`` with an IP endpoint sends ``/<key>`` and names the bucket in the Host
header (``<bucket>.oss-cn-hangzhou.aliyuncs.com``): the region must resolve it
virtual-host style.  The package is installed once into
``tests/integration/alioss/node_modules`` (ignored by git) and reused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FerryCluster, unique_bucket

HERE = Path(__file__).parent / "alioss"
WANTED_MAJOR_MINOR = "6.23."


def _installed_version() -> str | None:
    manifest = HERE / "node_modules" / "ali-oss" / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


@pytest.fixture(scope="module")
def alioss_dir() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("ali-oss smoke test needs node and npm on PATH; not found")
    version = _installed_version()
    if version is None or not version.startswith(WANTED_MAJOR_MINOR):
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=240,
        )
        if result.returncode != 0:
            pytest.skip(f"npm install of ali-oss failed (offline?): {result.stderr.strip()[-500:]}")
    version = _installed_version()
    assert version is not None and version.startswith(WANTED_MAJOR_MINOR), version
    return HERE


def test_alioss_bucket_and_object_round_trip(cluster: FerryCluster, alioss_dir: Path) -> None:
    region = cluster.region()
    bucket = unique_bucket("alioss")
    env = dict(
        os.environ,
        FERRY_ENDPOINT=region.endpoint,
        FERRY_REGION=region.name,
        FERRY_AK=ACCESS_KEY_ID,
        FERRY_SK=ACCESS_KEY_SECRET,
        FERRY_BUCKET=bucket,
    )
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.pop(name, None)
    try:
        result = subprocess.run(
            [shutil.which("node") or "node", str(alioss_dir / "smoke.js")],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        _drop_bucket(cluster, bucket)

    assert seen["version"].startswith(WANTED_MAJOR_MINOR)
    assert seen["putBucketStatus"] == 200
    assert seen["putStatus"] == 200
    assert seen["putEtag"] == f'"{seen["md5"]}"'
    assert seen["getStatus"] == 200
    assert seen["getContentType"] == "text/plain"
    assert seen["getMeta"] == "node"
    assert seen["headStatus"] == 200
    assert seen["headMeta"] == {"origin": "node"}
    assert seen["listKeys"] == ["smoke/dir/hello world+1.txt"]
    assert seen["listV2Prefixes"] == ["smoke/dir/"]
    assert seen["deleteStatus"] == 204
    assert seen["getAfterDelete"] == "404 NoSuchKey"
    assert seen["deleteBucketStatus"] == 204


def _drop_bucket(cluster: FerryCluster, name: str) -> None:
    """Remove whatever the node script left behind when it failed half-way."""
    import oss2

    bucket = cluster.oss2_bucket(name)
    try:
        for obj in oss2.ObjectIteratorV2(bucket):
            bucket.delete_object(obj.key)
        bucket.delete_bucket()
    except oss2.exceptions.NoSuchBucket:
        pass
