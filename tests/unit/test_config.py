"""The built-in configuration, its validation, and the root account's key."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ferry.config import DEFAULT_CONFIG, ConfigError, load_config, parse_config
from ferry.credentials import ROOT_FILE, load_root_account


def test_default_config_has_two_regions_with_routes_both_ways() -> None:
    config = load_config(None)
    assert [r.name for r in config.regions] == ["oss-cn-hangzhou", "oss-cn-beijing"]
    for region in config.regions:
        assert region.listen_host == "127.0.0.1"
        assert region.endpoint == f"http://127.0.0.1:{region.listen_port}"
        assert region.endpoint_host == "127.0.0.1"
        assert "127.0.0.1" in region.endpoint_hosts
        assert region.data_dir == config.data_dir / region.name
    ports = [r.listen_port for r in config.regions]
    assert len(set(ports)) == 2
    pairs = {(r.source, r.destination) for r in config.routes}
    assert pairs == {("oss-cn-hangzhou", "oss-cn-beijing"), ("oss-cn-beijing", "oss-cn-hangzhou")}
    for r in config.routes:
        assert "oss_acc" in r.transfer_types
    assert config.region("oss-cn-beijing").name == "oss-cn-beijing"
    with pytest.raises(KeyError):
        config.region("oss-us-west-1")


def test_data_dir_override_and_relative_paths(tmp_path: Path) -> None:
    config = load_config(None, data_dir=tmp_path / "d")
    assert config.data_dir == tmp_path / "d"
    assert config.regions[0].data_dir == tmp_path / "d" / "oss-cn-hangzhou"
    path = tmp_path / "ferry.toml"
    path.write_text(DEFAULT_CONFIG)
    from_file = load_config(path)
    assert from_file.data_dir == tmp_path / "ferry-data"
    assert [r.name for r in from_file.regions] == ["oss-cn-hangzhou", "oss-cn-beijing"]


def _raw(**changes: Any) -> dict[str, Any]:
    raw = tomllib.loads(DEFAULT_CONFIG)
    raw.update(changes)
    return raw


def _region(name: str, listen: str = "127.0.0.1:9100") -> dict[str, Any]:
    return {"name": name, "listen": listen}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"region": []}, "no \\[\\[region\\]\\]"),
        ({}, "no \\[\\[region\\]\\]"),
        ({"region": [_region("a"), _region("a", "127.0.0.1:9200")]}, "unique"),
        ({"region": [_region("a", "127.0.0.1")]}, "HOST:PORT"),
        ({"region": [_region("a", "127.0.0.1:http")]}, "HOST:PORT"),
        ({"region": [_region("a", ":9100")]}, "HOST:PORT"),
        ({"region": [_region("a", "127.0.0.1:")]}, "HOST:PORT"),
        ({"region": [{"listen": "127.0.0.1:1"}]}, "name"),
        ({"region": [{"name": "a"}]}, "listen"),
        ({"region": [_region("a")], "route": [{"from": "a", "to": "b"}]}, "unknown region 'b'"),
        ({"region": [_region("a")], "route": [{"from": "z", "to": "a"}]}, "unknown region 'z'"),
        ({"region": [_region("a")], "route": [{"to": "a"}]}, "from"),
        (
            {"region": [_region("a")], "route": [{"from": "a", "to": "a", "transfer_types": ["ftp"]}]},
            "transfer type 'ftp'",
        ),
    ],
)
def test_invalid_configs_raise_config_error(tmp_path: Path, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, tmp_path)


def test_modified_default_with_bad_transfer_type(tmp_path: Path) -> None:
    raw = _raw()
    raw["route"][0]["transfer_types"] = ["internal", "oss_fast"]
    with pytest.raises(ConfigError):
        parse_config(raw, tmp_path)


def test_minimal_region_defaults(tmp_path: Path) -> None:
    config = parse_config({"region": [_region("r1", "0.0.0.0:8080")]}, tmp_path)
    (region,) = config.regions
    assert (region.listen_host, region.listen_port) == ("0.0.0.0", 8080)
    assert region.endpoint == "http://0.0.0.0:8080"
    assert region.rtc is False
    assert config.routes == ()


def test_route_defaults_to_internal(tmp_path: Path) -> None:
    raw = {"region": [_region("a"), _region("b", "127.0.0.1:2")], "route": [{"from": "a", "to": "b"}]}
    (route,) = parse_config(raw, tmp_path).routes
    assert route.transfer_types == ("internal",)


def test_endpoint_host_of_a_named_endpoint(tmp_path: Path) -> None:
    raw = {"region": [{"name": "a", "listen": "0.0.0.0:9100", "endpoint": "http://OSS.Local:9100"}]}
    (region,) = parse_config(raw, tmp_path).regions
    assert region.endpoint_host == "oss.local"
    assert region.endpoint_hosts == frozenset({"oss.local", "0.0.0.0"})


# --- the root account ---------------------------------------------------------


def test_root_account_from_environment(tmp_path: Path) -> None:
    env = {"OSS_ACCESS_KEY_ID": "LTAIenv", "OSS_ACCESS_KEY_SECRET": "envsecret"}
    root = load_root_account(tmp_path, env)
    assert root.key.access_key_id == "LTAIenv"
    assert root.key.secret == "envsecret"
    assert root.generated is False
    assert root.key.account_id.isdigit()
    again = load_root_account(tmp_path, env)
    assert again.key == root.key  # the account id is kept in the data folder


def test_root_account_needs_both_env_vars(tmp_path: Path) -> None:
    root = load_root_account(tmp_path, {"OSS_ACCESS_KEY_ID": "LTAIenv"})
    assert root.key.access_key_id != "LTAIenv"
    assert root.generated is True


def test_root_account_generated_once_and_saved_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_root_account(data_dir, {})
    assert first.generated is True
    assert first.key.access_key_id.startswith("LTAI")
    assert len(first.key.secret) >= 16
    path = data_dir / ROOT_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_root_account(data_dir, {})
    assert second.generated is False
    assert second.key == first.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_keys_differ_between_data_folders(tmp_path: Path) -> None:
    a = load_root_account(tmp_path / "a", {})
    b = load_root_account(tmp_path / "b", {})
    assert a.key.access_key_id != b.key.access_key_id
    assert a.key.secret != b.key.secret


def _service_key_id(data_dir: str) -> str:
    from ferry.credentials import load_service_key

    return load_service_key(Path(data_dir)).access_key_id


def _root_key_id(data_dir: str) -> str:
    from ferry.credentials import load_root_account

    return load_root_account(Path(data_dir), environ={}).key.access_key_id


def test_regions_starting_together_share_one_service_and_root_key(tmp_path: Path) -> None:
    # `ferry up` starts every region at once; on a fresh folder they race to create the keys.
    import multiprocessing

    for target in (_service_key_id, _root_key_id):
        folder = tmp_path / target.__name__
        with multiprocessing.get_context("spawn").Pool(6) as pool:
            ids = pool.map(target, [str(folder)] * 12)
        assert len(set(ids)) == 1, ids
        assert not list(folder.glob(".*.tmp"))  # no temp file left behind


def _with_replication(section: dict[str, Any]) -> dict[str, Any]:
    raw = tomllib.loads(DEFAULT_CONFIG)
    raw["replication"] = section
    return raw


def test_replication_settings_for_rtc_and_lag(tmp_path: Path) -> None:
    default = parse_config(tomllib.loads(DEFAULT_CONFIG), tmp_path).engine
    assert (default.rtc_workers, default.rtc_threshold_seconds, default.lag_retention_seconds) == (
        4,
        600.0,
        7200.0,
    )
    section = {
        "rtc_workers": 0,
        "rtc_threshold_seconds": 30,
        "lag_retention_seconds": 60,
        "rtc_quiet_seconds": 2,
    }
    engine = parse_config(_with_replication(section), tmp_path).engine
    assert (engine.rtc_workers, engine.rtc_threshold_seconds, engine.rtc_quiet_seconds) == (0, 30.0, 2.0)
    assert engine.lag_retention_seconds == 3600.0  # never less than the hour RTC looks at
    for bad in ({"rtc_threshold_seconds": 0}, {"rtc_workers": -1}, {"workers": 0}, {"rtc_workers": "x"}):
        with pytest.raises(ConfigError):
            parse_config(_with_replication(bad), tmp_path)


def test_replication_settings_for_big_objects(tmp_path: Path) -> None:
    default = parse_config(tomllib.loads(DEFAULT_CONFIG), tmp_path).engine
    assert (default.multipart_threshold_bytes, default.multipart_part_bytes) == (64 << 20, 16 << 20)
    assert default.stale_upload_seconds == 86400.0
    section = {
        "multipart_threshold_bytes": 1 << 20,
        "multipart_part_bytes": 102400,
        "stale_upload_seconds": 60,
    }
    engine = parse_config(_with_replication(section), tmp_path).engine
    assert (engine.multipart_threshold_bytes, engine.multipart_part_bytes) == (1 << 20, 102400)
    assert engine.stale_upload_seconds == 60.0
    for bad in (
        {"multipart_part_bytes": 102399},
        {"multipart_threshold_bytes": 0},
        {"multipart_part_bytes": "x"},
    ):
        with pytest.raises(ConfigError):
            parse_config(_with_replication(bad), tmp_path)
