"""``hailong server sipas``: the SIPAS factor indices of a period, from the survey
answers kiosks collected (issue 12; method in docs/leader-guide.md)."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, echo_json, user_errors

from server.config import load_server_config


@click.command("sipas")
@config_option
@click.option("--period", default="quarter", show_default=True,
              help="YYYY-MM, YYYY-Q1..Q4, YYYY-6M, YYYY-9M, YYYY, or today/month/quarter/year")
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def sipas_command(config_path: str, period: str, as_json: bool) -> None:
    """SIPAS indices per factor and overall for this commune and period."""
    from hailong import sipas

    from server.reports import figures
    from server.ingest import sipas as server_sipas
    from server.ingest.store import Store

    config = load_server_config(config_path)
    try:
        p = figures.parse_period(period)
    except figures.PeriodError as e:
        raise click.ClickException(str(e)) from None
    with Store(config.store) as store:
        out = server_sipas.indices(store.db.conn, p, config.server.commune)
    if as_json:
        echo_json(out)
        return
    mine = out["communes"].get(config.server.commune) or sipas.indices([])
    click.echo(f"SIPAS {p.key}: {mine['answers']} answers, overall "
               f"{'-' if mine['overall'] is None else mine['overall']}%")
    for code, f in mine["factors"].items():
        click.echo(f"  {sipas.factor_name(code)}: {f['index']}% ({f['satisfied']}/{f['answers']})")


COMMANDS = (sipas_command,)
