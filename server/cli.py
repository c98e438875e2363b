"""``hailong server``: the commune server and its admin tools."""

from __future__ import annotations

import importlib

import click

from hailong.cliutil import config_option, echo_json, stop_on_signals, user_errors

from server.config import load_server_config


@click.group()
def server() -> None:
    """The commune server: ingest, store, dashboard, fleet."""


@server.command()
@config_option
@user_errors
def run(config_path: str) -> None:
    """Receive ratings over MQTT, store each once, ack; serve the dashboard."""
    from server.service import serve

    config = load_server_config(config_path)
    stop = stop_on_signals()
    serve(config, stop)


@server.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def stats(config_path: str, as_json: bool) -> None:
    """Counts of stored ratings, by kiosk and score, and of rejected input."""
    from server.ingest.store import Store, stats as store_stats

    config = load_server_config(config_path)
    with Store(config.store) as store:
        figures = store_stats(store.db)
    if as_json:
        echo_json(figures)
        return
    click.echo(f"ratings {figures['ratings']} (distinct ids {figures['distinct_ids']}), "
               f"suspect {figures['suspect']}, unsynchronised clock {figures['unsynced_clock']}, "
               f"with a dossier code {figures['with_dossier']}")
    for kiosk_id, n in figures["by_kiosk"].items():
        click.echo(f"  kiosk {kiosk_id}: {n}")
    click.echo("  by score: " + ", ".join(f"{s}: {n}" for s, n in figures["by_score"].items()))
    if figures.get("forward_backlog"):  # issue 12
        click.echo(f"waiting for the province's ack: {figures['forward_backlog']}")
    if figures.get("forward_refused"):
        click.echo(f"refused by the province, kept: {figures['forward_refused']} "
                   "(hailong server forward-retry sends them again)")
    if figures["rejected"]:
        click.echo(f"rejected input {figures['rejected']}: " + ", ".join(
            f"{r} {n}" for r, n in figures["rejected_by_reason"].items()))


# The admin commands live beside what they manage; each module lists its COMMANDS.
COMMAND_MODULES = (
    "server.fleet.fleet_cli",        # enrolment, broker config, fleet health, roster
    "server.accounts_cli",           # dashboard accounts, demo data
    "server.reports.documents_cli",  # period report files, scheduled e-mail now (issue 10)
    "server.ingest.feed_cli",        # integration tokens for the transaction feed (issue 9)
    "server.ingest.door_cli",        # ratings held back by the server's own rules (issue 8)
    "server.ingest.sipas_cli",       # SIPAS survey indices (issue 12)
    "server.ingest.forward_cli",     # ratings the province refused, sent again (issue 12)
    "server.ingest.copy_cli",        # a SQLite store copied into PostgreSQL (issue 12)
)
for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        server.add_command(_command)
