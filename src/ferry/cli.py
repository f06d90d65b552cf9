"""The ``ferry`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ferry import replication_cli
from ferry.config import DEFAULT_CONFIG, ConfigError, FerryConfig, load_config
from ferry.observability.logs import LEVELS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Ferry: an OSS-compatible store with replication.",
)

replication_app = replication_cli.app
app.add_typer(replication_app, name="replication")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config (default: built-in).")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Override the config's data_dir.")]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")]
AccessLogOption = Annotated[
    bool, typer.Option("--access-log", help="Log every request (one JSON line each, at any level).")
]


@app.command()
def up(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    print_default_config: Annotated[
        bool, typer.Option("--print-default-config", help="Print the built-in config and exit.")
    ] = False,
    log_level: LogLevelOption = "warning",
    access_log: AccessLogOption = False,
) -> None:
    """Start every region of the config, one process each (Ctrl-C stops them)."""
    if print_default_config:
        sys.stdout.write(DEFAULT_CONFIG)
        return
    from ferry.server import run_all

    loaded = _load(config, data_dir)
    raise typer.Exit(run_all(loaded, config, _level(log_level), access_log=access_log))


@app.command()
def serve(
    region: Annotated[str, typer.Option("--region", help="The region to run, e.g. oss-cn-hangzhou.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    log_level: LogLevelOption = "warning",
    access_log: AccessLogOption = False,
) -> None:
    """Run one region alone in this process."""
    from ferry.server import serve_region

    loaded = _load(config, data_dir)
    try:
        loaded.region(region)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    serve_region(loaded, region, _level(log_level), access_log=access_log)


@replication_app.command("retry")
def replication_retry(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    region: replication_cli.RegionOption = None,
    bucket: replication_cli.BucketOption = None,
) -> None:
    """Queue every FAILED replication task again (they are never dropped)."""
    replication_cli.retry(_load(config, data_dir), region, bucket)


@replication_app.command("status")
def replication_status(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    region: replication_cli.RegionOption = None,
    bucket: replication_cli.BucketOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """A table of replication rules with their pending and failed work."""
    replication_cli.status(_load(config, data_dir), region, bucket, as_json)


def _level(name: str) -> str:
    if name.lower() not in LEVELS:
        raise typer.BadParameter(f"--log-level must be one of {', '.join(LEVELS)}")
    return name.lower()


def _load(config: Path | None, data_dir: Path | None) -> FerryConfig:
    try:
        return load_config(config, data_dir=data_dir.resolve() if data_dir else None)
    except (ConfigError, OSError) as exc:
        raise typer.BadParameter(str(exc)) from None


def main() -> None:
    app()
