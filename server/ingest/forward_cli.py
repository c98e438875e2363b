"""``hailong server forward-retry``: send the province again the ratings it refused
(kept in the forward outbox with its reason; server/ingest/forward.py), e.g. after the
province server was upgraded to know the SIPAS answers. ``hailong server province-ids``:
which official each pseudonym at the province is (only the commune can tell)."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, echo_json, user_errors
from hailong.database import immediate

from server.config import load_server_config


@click.command("forward-retry")
@config_option
@user_errors
def forward_retry(config_path: str) -> None:
    """Queue every rating the province refused to be forwarded again (a running server
    sends them after its backlog)."""
    from server.ingest import forward
    from server.ingest.store import connect

    db = connect(load_server_config(config_path).store)
    try:
        before = forward.refused(db.conn)
        with immediate(db):
            n = forward.retry_refused(db.conn)
    finally:
        db.close()
    why = ", ".join(f"{reason} {count}" for reason, count in before.items())
    click.echo(f"queued again: {n}" + (f" (refused as: {why})" if why else ""))


@click.command("province-ids")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def province_ids(config_path: str, as_json: bool) -> None:
    """Each official of the roster and of the stored ratings, and the id the province
    knows them by (officials leave the commune under a pseudonym)."""
    from server.ingest import forward
    from server.ingest.store import connect

    db = connect(load_server_config(config_path).store)
    try:
        key = forward.pseudonym_key(db.conn)
        officials = sorted({r[0] for r in db.conn.execute(
            "SELECT DISTINCT official FROM ratings WHERE official IS NOT NULL").fetchall()}
            | {r[0] for r in db.conn.execute("SELECT id FROM officials").fetchall()})
    finally:
        db.close()
    table = {o: forward.pseudonym(key, o) for o in officials}
    if as_json:
        echo_json(table)
        return
    for official, pseudonym in table.items():
        click.echo(f"{official:30} {pseudonym}")


COMMANDS = (forward_retry, province_ids)
