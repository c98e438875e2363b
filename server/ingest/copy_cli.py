"""``hailong server copy-store``: move a commune's store from its SQLite file to
PostgreSQL (server/ingest/copystore.py; docs/postgresql.md says when and how)."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, user_errors

from server.config import load_server_config


@click.command("copy-store")
@config_option
@click.option("--to", "url", required=True, metavar="postgresql://…",
              help="the empty PostgreSQL database to copy the SQLite store into")
@user_errors
def copy_store(config_path: str, url: str) -> None:
    """Copy every table of the SQLite store ([store] path) into an empty PostgreSQL
    store, in one transaction; stop the server first."""
    from server.ingest import copystore, engine

    config = load_server_config(config_path)
    source = config.store.path
    click.echo(f"copying {source} into {engine.describe(url)} (the SQLite file is locked "
               "until the copy commits: nothing can write it meanwhile)")
    copied = copystore.copy_store(source, url, say=click.echo)
    click.echo(f"copied {copied.rows} rows of {len(copied.tables)} tables in "
               f"{copied.seconds:.1f} s. Now set [store] url = \"{engine.describe(url)}\" "
               f"(with its password) in {config_path} and start the server again; keep "
               f"{source} as a backup")


COMMANDS = (copy_store,)
