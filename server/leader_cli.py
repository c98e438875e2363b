"""``hailong server add-user`` and ``hailong server seed``: the leader side's admin
commands (registered on the ``server`` group by ``server/cli.py``)."""

from __future__ import annotations

import sys

import click

from hailong.cliutil import config_option, user_errors

from .config import load_server_config


@click.command("add-user")
@config_option
@click.option("--username", required=True, help="the login name")
@click.option("--role", required=True, type=click.Choice(["leader", "office", "technician"]),
              help="leader: everything; office: follow-up and reports; technician: kiosks")
@user_errors
def add_user(config_path: str, username: str, role: str) -> None:
    """Create a dashboard account (or reset its password); the password is read from
    standard input (one line)."""
    from . import accounts
    from .store import connect

    config = load_server_config(config_path)
    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    db = connect(config.store.path)
    try:
        user = accounts.add_user(db.conn, username, role, password)
    finally:
        db.close()
    click.echo(f"user {user.username} ({user.role}) saved")


@click.command("seed")
@config_option
@click.option("--ratings", "count", type=click.IntRange(1, 20_000_000), required=True,
              help="how many ratings to add")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="spread them over this many past days")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="random seed (same seed, same data)")
@user_errors
def seed(config_path: str, count: int, days: int, seed_value: int) -> None:
    """Fill the store with realistic demo ratings (for demos and benchmarks only)."""
    import time

    from .seed import seed as do_seed
    from .store import connect

    config = load_server_config(config_path)
    db = connect(config.store.path)
    started = time.monotonic()
    try:
        do_seed(db, count, days=days, seed_value=seed_value, commune=config.server.commune,
                low_at_or_below=config.followup.low_at_or_below,
                deadline_days=config.followup.deadline_days,
                progress=lambda text: click.echo(text, err=True))
    finally:
        db.close()
    click.echo(f"seeded {count} ratings over {days} days in "
               f"{time.monotonic() - started:.1f} s into {config.store.path}")


COMMANDS = (add_user, seed)
