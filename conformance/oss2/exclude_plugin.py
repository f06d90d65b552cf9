"""pytest plugin of the conformance run: deselect the tests excluded.md lists, by exact node id.

(``--deselect`` matches prefixes, so excluding ``test_check_endpoint`` would drop
``test_check_endpoint1`` too.)  The ids come in ``FERRY_OSS2_EXCLUDED``, one per line.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    excluded = set(os.environ.get("FERRY_OSS2_EXCLUDED", "").splitlines())
    dropped = [item for item in items if item.nodeid in excluded]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.nodeid not in excluded]
