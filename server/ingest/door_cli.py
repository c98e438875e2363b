"""``hailong server flags`` and ``hailong server confirm-flags``: what the server's own
rules held back (server/ingest/door.py), and a leader's confirmation that lets it count."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, echo_json, user_errors
from hailong.errors import HailongError

from server.config import load_server_config


class FlagError(HailongError, ValueError):
    """A confirmation that cannot be done."""


@click.command("flags")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON list, for scripts")
@user_errors
def flags(config_path: str, as_json: bool) -> None:
    """Ratings stored but left out of the figures by the server's rules (roster,
    closed-period, backdated, rate), grouped by rule, kiosk and official."""
    from server.ingest import door
    from server.ingest.store import connect

    config = load_server_config(config_path)
    db = connect(config.store)
    try:
        groups = door.open_flags(db.conn)
    finally:
        db.close()
    if as_json:
        echo_json(groups)
        return
    if not groups:
        click.echo("no flagged ratings waiting")
    for g in groups:
        click.echo(f"{g['rule']:14} kiosk {g['kiosk']:10} official {g['official'] or '-':12} "
                   f"{g['count']} rating(s)")


@click.command("confirm-flags")
@config_option
@click.option("--rule", required=True, help="the rule to confirm: roster, closed-period, "
              "backdated or rate")
@click.option("--kiosk", help="only ratings from this kiosk")
@click.option("--official", help="only ratings of this official")
@click.option("--id", "rating_ids", multiple=True, help="only this rating (repeatable)")
@click.option("--by", required=True, help="who confirms (kept in the store)")
@user_errors
def confirm_flags(config_path: str, rule: str, kiosk: str | None, official: str | None,
                  rating_ids: tuple[str, ...], by: str) -> None:
    """A leader confirms flagged ratings: they count in the figures from now on and
    low ones get their follow-up case."""
    from server.ingest import door
    from server.ingest.store import connect

    config = load_server_config(config_path)
    if rule not in door.EXCLUDING:
        raise FlagError(f"--rule {rule!r}: one of {', '.join(door.EXCLUDING)}")
    db = connect(config.store)
    try:
        counted = door.confirm(db.conn, rule=rule, by=by, kiosk=kiosk, official=official,
                               rating_ids=list(rating_ids) or None)
        cases = door.open_cases_for(db.conn, counted, config.followup)
    finally:
        db.close()
    click.echo(f"{len(counted)} rating(s) now count; {cases} follow-up case(s) opened")


COMMANDS = (flags, confirm_flags)
