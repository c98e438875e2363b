"""``hailong server add-user`` / ``disable-user`` / ``enable-user`` / ``remove-user`` /
``reset-password`` and ``hailong server seed``: the leader side's admin commands
(registered on the ``server`` group by ``server/cli.py``)."""

from __future__ import annotations

import contextlib
import sys

import click

from hailong.cliutil import config_option, user_errors

from server.config import load_server_config


@click.command("add-user")
@config_option
@click.option("--username", required=True, help="the login name")
@click.option("--role", required=True,
              type=click.Choice(["leader", "office", "technician", "official"]),
              help="leader: everything; office: follow-up and reports; technician: kiosks; "
              "official: only the counter page that asks a citizen to rate (issue 9; needs "
              "--official)")
@click.option("--official", default=None, metavar="ID",
              help="the roster official this person also is (they are rated at a counter): "
                   "they cannot act on their own follow-up cases")
@user_errors
def add_user(config_path: str, username: str, role: str, official: str | None) -> None:
    """Create a dashboard account (or reset its password); the password is read from
    standard input (one line)."""
    from server import accounts

    config = load_server_config(config_path)
    if role == "official" and not official:  # the counter page acts as that official
        raise click.UsageError("--role official needs --official ID (the roster official)")
    password = _read_password()
    with _accounts_db(config) as conn:
        user = accounts.add_user(conn, username, role, password, official=official)
    click.echo(f"user {user.username} ({user.role}"
               + (f", official {user.official}" if user.official else "") + ") saved")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@contextlib.contextmanager
def _accounts_db(config):
    from server.ingest.store import connect

    db = connect(config.store)
    try:
        yield db.conn
    finally:
        db.close()


def _user_command(name: str, doc: str, action):
    @click.command(name, help=doc)
    @config_option
    @click.option("--username", required=True, help="the login name")
    @user_errors
    def command(config_path: str, username: str) -> None:
        config = load_server_config(config_path)
        with _accounts_db(config) as conn:
            click.echo(action(conn, username))
    return command


def _disable(conn, username: str) -> str:
    from server import accounts
    accounts.set_disabled(conn, username, True, "cli")
    return f"user {username} disabled; their sessions have ended"


def _enable(conn, username: str) -> str:
    from server import accounts
    accounts.set_disabled(conn, username, False, "cli")
    return f"user {username} enabled"


def _remove(conn, username: str) -> str:
    from server import accounts
    accounts.remove_user(conn, username, "cli")
    return f"user {username} removed (the audit log keeps what they did)"


def _reset(conn, username: str) -> str:
    from server import accounts
    accounts.reset_password(conn, username, _read_password(), "cli")
    return f"password of {username} reset; their sessions have ended"


@click.command("users")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def list_users(config_path: str, as_json: bool) -> None:
    """List the dashboard accounts: role, disabled or not, linked official."""
    from hailong.cliutil import echo_json

    from server import accounts

    config = load_server_config(config_path)
    with _accounts_db(config) as conn:
        rows = accounts.users(conn)
    if as_json:
        echo_json({"users": rows})
        return
    for u in rows:
        click.echo(f"{u['username']}\t{u['role']}\t{'disabled' if u['disabled'] else 'active'}"
                   + (f"\tofficial {u['official']}" if u["official"] else ""))


disable_user = _user_command(
    "disable-user", "Disable a dashboard account: no login, every session ends at once.",
    _disable)
enable_user = _user_command("enable-user", "Allow a disabled dashboard account again.",
                            _enable)
remove_user = _user_command(
    "remove-user", "Delete a dashboard account and end its sessions.", _remove)
reset_password = _user_command(
    "reset-password", "Set a new password for a dashboard account (read from standard "
    "input, one line, as add-user); its sessions end.", _reset)


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

    from server.ingest.engine import describe
    from server.ingest.seed import seed as do_seed
    from server.ingest.store import connect

    config = load_server_config(config_path)
    db = connect(config.store)
    started = time.monotonic()
    try:
        do_seed(db, count, days=days, seed_value=seed_value, commune=config.server.commune,
                low_at_or_below=config.followup.low_at_or_below,
                deadline_days=config.followup.deadline_days,
                progress=lambda text: click.echo(text, err=True))
    finally:
        db.close()
    click.echo(f"seeded {count} ratings over {days} days in "
               f"{time.monotonic() - started:.1f} s into {describe(config.store)}")


COMMANDS = (add_user, list_users, disable_user, enable_user, remove_user, reset_password, seed)
