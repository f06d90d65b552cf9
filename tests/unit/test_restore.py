"""RestoreObject: the phases of a restore, what a request may ask, and where restores are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.config import ConfigError, parse_config
from ferry.core.errors import OssError
from ferry.core.model import Bucket, StorageClass, Versioning
from ferry.core.restore import (
    DAY_SECONDS,
    Phase,
    RestoreDurations,
    RestoreRequest,
    RestoreState,
    Tier,
    check_readable,
    decide,
    phase,
    readable,
    restore_status,
)
from ferry.protocol.restore_xml import parse_restore_request
from ferry.storage.interfaces import NewVersion
from ferry.storage.sqlite_meta import SqliteMetadataStore
from ferry.storage.sqlite_restores import SqliteRestores

ARCHIVE, COLD, DEEP = StorageClass.ARCHIVE, StorageClass.COLD_ARCHIVE, StorageClass.DEEP_COLD_ARCHIVE
DURATIONS = RestoreDurations(
    archive=60, cold_archive_expedited=10, cold_archive_standard=20, cold_archive_bulk=30
)


def code_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(OssError) as caught:
        call()
    return caught.value.code


# --- phases --------------------------------------------------------------------------


def test_a_first_restore_starts_and_is_ongoing_until_ready() -> None:
    outcome = decide(ARCHIVE, None, RestoreRequest(days=2), DURATIONS, now=1000.0)
    assert outcome.started
    assert outcome.state == RestoreState(1000.0, 1060.0, 1060.0 + 2 * DAY_SECONDS, Tier.STANDARD)
    assert phase(outcome.state, 1059.9) is Phase.ONGOING
    assert phase(outcome.state, 1060.0) is Phase.RESTORED
    assert phase(outcome.state, 1060.0 + 2 * DAY_SECONDS) is Phase.FROZEN


def test_a_restore_in_progress_is_refused() -> None:
    state = decide(ARCHIVE, None, RestoreRequest(), DURATIONS, now=0.0).state
    assert code_of(lambda: decide(ARCHIVE, state, RestoreRequest(), DURATIONS, now=30.0)) == (
        "RestoreAlreadyInProgress"
    )


def test_restoring_a_restored_copy_extends_it_and_never_shortens_it() -> None:
    state = decide(ARCHIVE, None, RestoreRequest(days=7), DURATIONS, now=0.0).state
    later = 60.0 + DAY_SECONDS
    shorter = decide(ARCHIVE, state, RestoreRequest(days=1), DURATIONS, now=later)
    assert not shorter.started and shorter.state.expires_at == state.expires_at
    longer = decide(ARCHIVE, state, RestoreRequest(days=7), DURATIONS, now=later)
    assert not longer.started and longer.state.expires_at == later + 7 * DAY_SECONDS
    assert longer.state.ready_at == state.ready_at


def test_an_expired_restore_starts_again() -> None:
    state = decide(ARCHIVE, None, RestoreRequest(days=1), DURATIONS, now=0.0).state
    again = decide(ARCHIVE, state, RestoreRequest(days=1), DURATIONS, now=state.expires_at + 1)
    assert again.started and again.state.requested_at == state.expires_at + 1


def test_status_header_text() -> None:
    state = RestoreState(0.0, 10.0, 1_492_330_353.0, Tier.STANDARD)
    assert restore_status(None, 5.0) is None
    assert restore_status(state, 5.0) == 'ongoing-request="true"'
    assert (
        restore_status(state, 11.0) == 'ongoing-request="false", expiry-date="Sun, 16 Apr 2017 08:12:33 GMT"'
    )
    assert restore_status(state, 1_492_330_353.0) is None


def test_only_cold_classes_wait_for_a_restore() -> None:
    assert readable(StorageClass.STANDARD, None, 0.0) and readable(StorageClass.IA, None, 0.0)
    for cold in (ARCHIVE, COLD, DEEP):
        assert not readable(cold, None, 0.0)
        assert code_of(lambda c=cold: check_readable(c, None, 0.0)) == "InvalidObjectState"  # type: ignore[misc]
    restored = RestoreState(0.0, 1.0, 100.0, Tier.STANDARD)
    assert readable(ARCHIVE, restored, 50.0) and not readable(ARCHIVE, restored, 0.5)


@given(
    cls=st.sampled_from([ARCHIVE, COLD]),
    steps=st.lists(st.tuples(st.floats(0, 3 * DAY_SECONDS), st.integers(1, 7)), min_size=1, max_size=12),
)
def test_restores_over_time_follow_the_state_machine(
    cls: StorageClass, steps: list[tuple[float, int]]
) -> None:
    """Whatever the calls and their timing: a call during an ongoing restore is refused and changes
    nothing, a restored copy never expires sooner after a call, and a frozen one starts anew."""
    now, state = 0.0, None
    tier = None if cls is ARCHIVE else "Bulk"
    for gap, days in steps:
        now += gap
        before = phase(state, now)
        request = RestoreRequest(days=days, tier=tier)
        if before is Phase.ONGOING:
            with pytest.raises(OssError) as caught:
                decide(cls, state, request, DURATIONS, now)
            assert caught.value.code == "RestoreAlreadyInProgress"
            continue
        outcome = decide(cls, state, request, DURATIONS, now)
        assert outcome.started is (before is Phase.FROZEN)
        if before is Phase.RESTORED:
            assert state is not None and outcome.state.expires_at >= state.expires_at
            assert phase(outcome.state, now) is Phase.RESTORED
        else:
            assert outcome.state.requested_at == now
            assert outcome.state.ready_at == now + DURATIONS.of(cls, outcome.state.tier)
        assert outcome.state.expires_at >= now + days * DAY_SECONDS
        state = outcome.state


# --- what a request may ask ------------------------------------------------------------


def test_tiers_and_durations_per_class() -> None:
    cold = decide(COLD, None, RestoreRequest(tier="Expedited"), DURATIONS, now=0.0)
    assert (cold.state.tier, cold.state.ready_at) == (Tier.EXPEDITED, 10.0)
    assert decide(COLD, None, RestoreRequest(), DURATIONS, now=0.0).state.tier is Tier.STANDARD
    assert decide(COLD, None, RestoreRequest(tier="Bulk"), DURATIONS, now=0.0).state.ready_at == 30.0
    deep = decide(DEEP, None, RestoreRequest(tier="Expedited", days=365), DURATIONS, now=0.0)
    assert deep.state.ready_at == DURATIONS.deep_cold_archive_expedited


@pytest.mark.parametrize(
    ("cls", "request_", "code"),
    [
        (StorageClass.STANDARD, RestoreRequest(), "OperationNotSupported"),
        (StorageClass.IA, RestoreRequest(), "OperationNotSupported"),
        (ARCHIVE, RestoreRequest(tier="Bulk"), "MalformedXML"),
        (ARCHIVE, RestoreRequest(days=8), "InvalidArgument"),
        (ARCHIVE, RestoreRequest(days=0), "InvalidArgument"),
        (COLD, RestoreRequest(days=366), "InvalidArgument"),
        (COLD, RestoreRequest(tier="wrong-tier"), "InvalidArgument"),
        (DEEP, RestoreRequest(tier="Bulk"), "InvalidArgument"),
    ],
)
def test_refused_requests(cls: StorageClass, request_: RestoreRequest, code: str) -> None:
    assert code_of(lambda: decide(cls, None, request_, DURATIONS, now=0.0)) == code


def test_request_document() -> None:
    assert parse_restore_request(b"") == RestoreRequest(days=1, tier=None)
    body = b"<RestoreRequest><Days>5</Days><JobParameters><Tier>Bulk</Tier></JobParameters></RestoreRequest>"
    assert parse_restore_request(body) == RestoreRequest(days=5, tier="Bulk")
    assert parse_restore_request(b"<RestoreRequest><Days>3</Days></RestoreRequest>") == RestoreRequest(days=3)
    assert code_of(lambda: parse_restore_request(b"<Restore/>")) == "MalformedXML"
    assert code_of(lambda: parse_restore_request(b"<RestoreRequest><Days>x</Days></RestoreRequest>")) == (
        "InvalidArgument"
    )


def test_config_section(tmp_path: Path) -> None:
    region = {"name": "r", "listen": "127.0.0.1:1"}
    config = parse_config({"region": [region], "restore": {"archive_seconds": 0.5}}, tmp_path)
    assert config.restore == RestoreDurations(archive=0.5)
    assert parse_config({"region": [region]}, tmp_path).restore == RestoreDurations()
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_config({"region": [region], "restore": {"archive": 1}}, tmp_path)
    with pytest.raises(ConfigError, match="must not be negative"):
        parse_config({"region": [region], "restore": {"cold_archive_bulk_seconds": -1}}, tmp_path)


# --- where restores are kept -------------------------------------------------------------


def test_restores_are_kept_per_version_and_go_with_it(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "meta.db")
    restores = SqliteRestores(store.db)
    store.create_bucket(Bucket(name="b", owner_id="o", region="r", created_at=0.0))
    first = store.commit_version(
        NewVersion(bucket="b", key="k", created_at=1.0, blob_id="x"), Versioning.ENABLED
    )
    second = store.commit_version(
        NewVersion(bucket="b", key="k", created_at=2.0, blob_id="y"), Versioning.ENABLED
    )
    seq1, seq2 = first.version.seq, second.version.seq
    started = restores.change(
        seq1, lambda current: decide(ARCHIVE, current, RestoreRequest(), DURATIONS, 10.0)
    )
    assert restores.get(seq1) == started.state and restores.get(seq2) is None
    with pytest.raises(OssError):
        restores.change(seq1, lambda current: decide(ARCHIVE, current, RestoreRequest(), DURATIONS, 20.0))
    assert restores.get(seq1) == started.state  # a refused call changed nothing
    assert restores.of([seq1, seq2]) == {seq1: started.state}
    assert SqliteRestores(store.db).get(seq1) == started.state  # durable, and the schema reopens
    store.delete_version("b", "k", first.version.version_id)
    assert restores.get(seq1) is None
