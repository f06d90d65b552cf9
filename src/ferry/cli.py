"""The ``ferry`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ferry import iam_cli, replication_cli
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
app.add_typer(iam_cli.app, name="iam")

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
    watch: Annotated[bool, typer.Option("--watch", help="Keep the table on screen, refreshed.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.")] = 2.0,
    iterations: Annotated[
        int | None, typer.Option("--iterations", help="With --watch: stop after this many tables.")
    ] = None,
) -> None:
    """Replication rules: status, RTC, pending and failed work, lag, progress, verification."""
    replication_cli.status(
        _load(config, data_dir),
        region,
        bucket,
        as_json=as_json,
        watch=watch,
        interval=max(0.1, interval),
        iterations=iterations,
    )


@replication_app.command("verify")
def replication_verify(
    bucket: Annotated[str, typer.Option("--bucket", help="The rule's source bucket.")],
    rule: Annotated[str, typer.Option("--rule", help="The rule ID.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    region: replication_cli.RegionOption = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Queue the changes that fix what differs.")
    ] = False,
    delete_extra: Annotated[
        bool,
        typer.Option("--delete-extra", help="With --repair: also delete replicas the source no longer has."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Compare a rule's source and destination; exit 1 when they differ."""
    from ferry import replication_verify_cli

    code = replication_verify_cli.verify(
        _load(config, data_dir),
        region,
        bucket,
        rule,
        repair=repair,
        delete_extra=delete_extra,
        as_json=as_json,
    )
    raise typer.Exit(code)


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
