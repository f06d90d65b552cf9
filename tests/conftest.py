from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import FerryCluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerryCluster]:
    """Two regions started with ``ferry up``, shared by the integration tests of a session."""
    root: Path = tmp_path_factory.mktemp("ferry")
    c = FerryCluster.create(root).start()
    try:
        yield c
    finally:
        c.stop()
