"""``hailong server forward-retry``: send the province again the ratings it refused
(kept in the forward outbox with its reason; server/ingest/forward.py), e.g. after the
province server was upgraded to know the SIPAS answers."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, user_errors
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


COMMANDS = (forward_retry,)
