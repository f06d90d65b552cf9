"""A pytest plugin for the conformance run: seed ``random`` before each test from its node id.

Several oss2 tests pick their bucket with ``random.choice`` among a plain bucket and two
client-side encryption buckets, one of which needs Alibaba Cloud KMS.  Seeding per test makes
every run draw the same bucket for the same test, so the pass count is reproducible and can
be held to a ratchet; ``excluded.md`` names the tests whose draw needs KMS.
"""

from __future__ import annotations

import random
import zlib

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    random.seed(zlib.crc32(item.nodeid.encode()))
