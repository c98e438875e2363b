"""``hailong server add-token / remove-token / list-tokens``: integration tokens for
the transaction feed (issue 9; registered on the ``server`` group by ``server/cli.py``).
"""

from __future__ import annotations

import click

from hailong.cliutil import config_option, echo_json, user_errors

from server.fleet.fleet_cli import admin_config


def _db(config_path: str):
    from server.ingest.store import connect
    return connect(admin_config(config_path).store)


@click.command("add-token")
@config_option
@click.option("--name", required=True, help="who uses it, e.g. 'hang-doi' for the queue "
              "system; a token of the same name is replaced")
@click.option("--counter", "counters", multiple=True, help="a counter id the token may start "
              "sessions at (repeat for several); none: every counter")
@user_errors
def add_token(config_path: str, name: str, counters: tuple[str, ...]) -> None:
    """Make an integration token for POST /api/v1/sessions and print it (once: only its
    hash is kept)."""
    from server.ingest import feed
    db = _db(config_path)
    try:
        token = feed.add_token(db.conn, name, list(counters))
    finally:
        db.close()
    click.echo(token)


@click.command("remove-token")
@config_option
@click.option("--name", required=True, help="the token's name")
@user_errors
def remove_token(config_path: str, name: str) -> None:
    """Revoke an integration token at once."""
    from server.ingest import feed
    db = _db(config_path)
    try:
        feed.remove_token(db.conn, name)
    finally:
        db.close()
    click.echo(f"token {name} removed")


@click.command("list-tokens")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def list_tokens(config_path: str, as_json: bool) -> None:
    """The integration tokens (names, counters, last use; never the tokens)."""
    import time

    from server.ingest import feed
    db = _db(config_path)
    try:
        tokens = feed.list_tokens(db.conn)
    finally:
        db.close()
    if as_json:
        echo_json({"tokens": tokens})
        return
    if not tokens:
        click.echo("no integration tokens")
    for t in tokens:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(t["last_used_at"])) \
            if t["last_used_at"] else "never used"
        click.echo(f"{t['name']:<20} counters: {', '.join(t['counters']) or 'all':<20} {used}")


COMMANDS = (add_token, remove_token, list_tokens)
