"""Ferry's configuration: the regions to run and which may replicate to which.

Read from TOML; ``ferry up --print-default-config`` prints the built-in default.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ferry.core.replication_rules import RegionCatalog, Route, TransferType
from ferry.core.restore import RestoreDurations
from ferry.replication.settings import EngineSettings

DEFAULT_CONFIG = """\
# Ferry configuration.  Paths are relative to this file's folder (or to the
# current folder for the built-in default).
data_dir = "ferry-data"

[[region]]
name = "oss-cn-hangzhou"
listen = "127.0.0.1:9100"
endpoint = "http://127.0.0.1:9100"   # what clients use; returned by ListBuckets/GetBucketInfo
rtc = true                          # may be the destination of RTC-enabled rules

[[region]]
name = "oss-cn-beijing"
listen = "127.0.0.1:9200"
endpoint = "http://127.0.0.1:9200"
rtc = true

# Which source region may replicate to which destination region, and over which
# transfer types.  Same-region replication (transfer type "internal") is always
# allowed within a region.
[[route]]
from = "oss-cn-hangzhou"
to = "oss-cn-beijing"
transfer_types = ["internal", "oss_acc"]

[[route]]
from = "oss-cn-beijing"
to = "oss-cn-hangzhou"
transfer_types = ["internal", "oss_acc"]
"""


@dataclass(frozen=True)
class RegionConfig:
    name: str
    listen_host: str
    listen_port: int
    endpoint: str
    data_dir: Path
    rtc: bool = False

    @functools.cached_property
    def endpoint_host(self) -> str:
        return (urlsplit(self.endpoint).hostname or self.listen_host).lower()

    @functools.cached_property
    def endpoint_hosts(self) -> frozenset[str]:  # read by every request's addressing
        return frozenset({self.endpoint_host, self.listen_host.lower()})


@dataclass(frozen=True)
class RouteConfig:
    source: str
    destination: str
    transfer_types: tuple[str, ...]
    rtc: bool = True


@dataclass(frozen=True)
class LifecycleSettings:
    """``[lifecycle]``: how often each region applies its buckets' lifecycle rules."""

    interval_seconds: float = 3600.0
    """0 turns the sweep off."""


@dataclass(frozen=True)
class AccessLogSettings:
    """``[access_log]``: how often buckets' access logs are written to their target buckets."""

    flush_seconds: float = 60.0


@dataclass(frozen=True)
class FerryConfig:
    data_dir: Path
    regions: tuple[RegionConfig, ...]
    routes: tuple[RouteConfig, ...]
    engine: EngineSettings = field(default_factory=EngineSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    access_log: AccessLogSettings = field(default_factory=AccessLogSettings)
    restore: RestoreDurations = field(default_factory=RestoreDurations)

    def region(self, name: str) -> RegionConfig:
        for region in self.regions:
            if region.name == name:
                return region
        known = ", ".join(r.name for r in self.regions)
        raise KeyError(f"no region {name!r} in the configuration (known: {known})")

    def catalog(self) -> RegionCatalog:
        """What GetBucketReplicationLocation answers and PutBucketReplication checks against."""
        return RegionCatalog(
            regions=tuple(r.name for r in self.regions),
            rtc_regions=frozenset(r.name for r in self.regions if r.rtc),
            routes=tuple(
                Route(route.source, route.destination, tuple(TransferType(t) for t in route.transfer_types))
                for route in self.routes
            ),
        )


class ConfigError(ValueError):
    pass


def load_config(path: Path | None, *, data_dir: Path | None = None) -> FerryConfig:
    """Load a TOML config, or the built-in default when ``path`` is None."""
    if path is None:
        raw = tomllib.loads(DEFAULT_CONFIG)
        base = Path.cwd()
    else:
        raw = tomllib.loads(path.read_text())
        base = path.resolve().parent
    return parse_config(raw, base, data_dir)


def parse_config(raw: dict[str, Any], base: Path, data_dir: Path | None = None) -> FerryConfig:
    root = data_dir if data_dir is not None else base / str(raw.get("data_dir", "ferry-data"))
    regions = []
    for entry in raw.get("region", []):
        name = _required(entry, "name", "region")
        listen = _required(entry, "listen", f"region {name}")
        host, _, port = str(listen).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"region {name}: listen must be HOST:PORT, got {listen!r}")
        region_dir = Path(entry["data_dir"]) if "data_dir" in entry else root / name
        if not region_dir.is_absolute():
            region_dir = base / region_dir
        regions.append(
            RegionConfig(
                name=name,
                listen_host=host,
                listen_port=int(port),
                endpoint=str(entry.get("endpoint", f"http://{listen}")),
                data_dir=region_dir,
                rtc=bool(entry.get("rtc", False)),
            )
        )
    if not regions:
        raise ConfigError("the configuration lists no [[region]]")
    names = {r.name for r in regions}
    if len(names) != len(regions):
        raise ConfigError("region names must be unique")
    routes = []
    for entry in raw.get("route", []):
        source, dest = _required(entry, "from", "route"), _required(entry, "to", "route")
        for n in (source, dest):
            if n not in names:
                raise ConfigError(f"route names unknown region {n!r}")
        types = tuple(entry.get("transfer_types", ["internal"]))
        for t in types:
            if t not in ("internal", "oss_acc"):
                raise ConfigError(f"route {source}->{dest}: unknown transfer type {t!r}")
        routes.append(RouteConfig(source, dest, types, bool(entry.get("rtc", True))))
    return FerryConfig(
        data_dir=root,
        regions=tuple(regions),
        routes=tuple(routes),
        engine=_engine(raw),
        lifecycle=_lifecycle(raw),
        access_log=_access_log(raw),
        restore=_restore(raw),
    )


def _access_log(raw: dict[str, Any]) -> AccessLogSettings:
    section = raw.get("access_log", {})
    try:
        flush = float(section.get("flush_seconds", AccessLogSettings.flush_seconds))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[access_log]: {exc}") from None
    if flush <= 0:
        raise ConfigError("[access_log]: flush_seconds must be positive")
    return AccessLogSettings(flush_seconds=flush)


def _restore(raw: dict[str, Any]) -> RestoreDurations:
    """``[restore]``: ``<field>_seconds`` for each field of :class:`RestoreDurations`."""
    section = raw.get("restore", {})
    known = {f"{name}_seconds": name for name in RestoreDurations.__dataclass_fields__}
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ConfigError(f"[restore]: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, float] = {}
    for setting, name in known.items():
        if setting not in section:
            continue
        try:
            values[name] = float(section[setting])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[restore]: {setting}: {exc}") from None
        if values[name] < 0:
            raise ConfigError(f"[restore]: {setting} must not be negative")
    return RestoreDurations(**values)


def _lifecycle(raw: dict[str, Any]) -> LifecycleSettings:
    section = raw.get("lifecycle", {})
    try:
        interval = float(section.get("interval_seconds", LifecycleSettings.interval_seconds))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[lifecycle]: {exc}") from None
    if interval < 0:
        raise ConfigError("[lifecycle]: interval_seconds must not be negative")
    return LifecycleSettings(interval_seconds=interval)


def _engine(raw: dict[str, Any]) -> EngineSettings:
    section = raw.get("replication", {})
    defaults = EngineSettings()
    try:
        settings = EngineSettings(
            workers=int(section.get("workers", defaults.workers)),
            lease_seconds=float(section.get("lease_seconds", defaults.lease_seconds)),
            rule_settle_seconds=float(section.get("rule_settle_seconds", defaults.rule_settle_seconds)),
            rtc_workers=int(section.get("rtc_workers", defaults.rtc_workers)),
            rtc_quiet_seconds=float(section.get("rtc_quiet_seconds", defaults.rtc_quiet_seconds)),
            rtc_threshold_seconds=float(section.get("rtc_threshold_seconds", defaults.rtc_threshold_seconds)),
            lag_retention_seconds=max(
                3600.0, float(section.get("lag_retention_seconds", defaults.lag_retention_seconds))
            ),
            multipart_threshold_bytes=int(
                section.get("multipart_threshold_bytes", defaults.multipart_threshold_bytes)
            ),
            multipart_part_bytes=int(section.get("multipart_part_bytes", defaults.multipart_part_bytes)),
            stale_upload_seconds=float(section.get("stale_upload_seconds", defaults.stale_upload_seconds)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[replication]: {exc}") from None
    if settings.workers < 1 or settings.rtc_workers < 0 or settings.rtc_threshold_seconds <= 0:
        raise ConfigError("[replication]: workers >= 1, rtc_workers >= 0 and rtc_threshold_seconds > 0")
    # Parts other than the last must be at least 100 KiB (OSS's EntityTooSmall).
    if settings.multipart_part_bytes < 100 * 1024 or settings.multipart_threshold_bytes < 1:
        raise ConfigError("[replication]: multipart_part_bytes >= 102400 and multipart_threshold_bytes >= 1")
    return settings


def _required(entry: dict[str, Any], name: str, where: str) -> str:
    if name not in entry:
        raise ConfigError(f"{where}: missing {name!r}")
    return str(entry[name])
