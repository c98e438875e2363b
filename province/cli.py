"""``hailong province``: the province server (PostgreSQL) and its admin tools."""

from __future__ import annotations

import contextlib
import functools
import logging

import click

from hailong.cliutil import config_option, echo_json, stop_on_signals, user_errors

log = logging.getLogger(__name__)


def _pool(config):
    """The store's pool; an unreachable database is one clear line, not a traceback."""
    import psycopg

    from province import store
    try:  # one plain connection first: its error names the cause, at once
        psycopg.connect(config.store.url, connect_timeout=10).close()
        return store.connect(config.store.url, config.store.pool_size)
    except Exception as e:  # psycopg.Error, or psycopg_pool's PoolTimeout
        text = " ".join(str(e).split()) or type(e).__name__
        raise click.ClickException(f"cannot use the province store {config.store.url}: "
                                   f"{text[:300]}") from None


def _load(func):
    @functools.wraps(func)
    def wrapper(config_path, *args, **kwargs):
        from province.config import load_province_config
        return func(load_province_config(config_path), *args, **kwargs)
    return wrapper


@click.group()
def province() -> None:
    """The province server: every commune's forwarded ratings on PostgreSQL."""


@province.command()
@config_option
@user_errors
@_load
def run(config) -> None:
    """Ingest every commune's forwarded ratings (stored once, then acked); serve the
    province dashboard."""
    from hailong.systemd import notify

    from province.ingest import ProvinceIngest
    stop = stop_on_signals()
    pool = _pool(config)
    with contextlib.ExitStack() as running:
        running.callback(pool.close)
        running.enter_context(ProvinceIngest(config, pool))
        if config.web.port:
            from province.web import ProvinceWeb
            try:  # a busy port must not stop ingest: ratings come first
                running.enter_context(ProvinceWeb(config, pool))
            except OSError as e:
                log.error("province dashboard not started on %s:%s: %s", config.web.host,
                          config.web.port, e.strerror or e)
        log.info("province server: store %s, broker %s:%s", config.store.url,
                 config.broker.host, config.broker.port)
        notify("READY=1")
        stop.wait()
    log.info("province server stopped")


@province.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
@_load
def stats(config, as_json: bool) -> None:
    """Counts of ratings held, by commune, and of rows holding contact or free text."""
    from province import store
    pool = _pool(config)
    with contextlib.closing(pool):
        figures = store.stats(pool)
    if as_json:
        echo_json(figures)
        return
    click.echo(f"ratings {figures['ratings']} (distinct ids {figures['distinct_ids']}), "
               f"rows with contact or free text {figures['contacts']}, communes enrolled "
               f"{figures['communes_enrolled']}")
    for commune, n in figures["by_commune"].items():
        click.echo(f"  {commune}: {n}")


@province.command("add-commune")
@config_option
@click.argument("commune")
@click.option("--name", default="", help="the commune's name, e.g. 'UBND xã Tân Lập'")
@click.option("--rotate", is_flag=True, help="give an enrolled commune a new password")
@user_errors
@_load
def add_commune(config, commune: str, name: str, rotate: bool) -> None:
    """Issue COMMUNE's account on the province broker (printed once) and allow it to
    publish only its own forwarded ratings."""
    from sync.contract import valid_id

    from province.brokerfiles import add_commune as enrol
    if not valid_id(commune):  # before any connection: the quick answer
        raise click.ClickException(f"{commune!r} is not a commune id (lower-case letters, "
                                   "digits, '-' or '_')")
    pool = _pool(config)
    with contextlib.closing(pool):
        password = enrol(config, pool, commune, name, rotate=rotate)
    click.echo(f"commune {commune}: put in its server config:\n"
               f"[province]\nenabled = true\nhost = \"{config.broker.host}\"\n"
               f"port = {config.broker.port}\nusername = \"{commune}\"\n"
               f"password = \"{password}\"")


@province.command()
@config_option
@click.option("--communes", type=click.IntRange(1, 10000), default=10, show_default=True,
              help="made-up communes to fill")
@click.option("--ratings", type=click.IntRange(1, 10_000_000), default=1000,
              show_default=True, help="ratings per commune")
@click.option("--days", type=click.IntRange(1, 3660), default=400, show_default=True,
              help="spread over the last DAYS days")
@user_errors
@_load
def seed(config, communes: int, ratings: int, days: int) -> None:
    """Fill the store with made-up ratings (COPY) for demos and benchmarks."""
    import time

    from province import store
    pool = _pool(config)
    started = time.monotonic()
    with contextlib.closing(pool):
        n = store.seed(pool, communes, ratings, days=days)
    click.echo(f"seeded {n} ratings across {communes} communes in "
               f"{time.monotonic() - started:.1f} s")


@province.command("add-user")
@config_option
@click.argument("username")
@click.option("--role", type=click.Choice(["province-admin", "viewer"]), required=True,
              help="viewer: communes only; province-admin: also officials' figures (by id)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 8 characters (asked when not given)")
@user_errors
@_load
def add_user(config, username: str, role: str, password: str) -> None:
    """Create a province dashboard account (or set a new password and role)."""
    from province import accounts
    pool = _pool(config)
    with contextlib.closing(pool):
        try:
            user = accounts.add_user(pool, username, role, password)
        except accounts.AccountError as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"user {user.username}: role {user.role}")


@province.command()
@config_option
@click.option("--period", required=True, help="2026-Q3, 2026-6M, 2026-9M, 2026, or an "
              "official period such as bc-2026-Q3")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".",
              show_default=True, help="folder to write the files into")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="also the PDF (LibreOffice)")
@user_errors
@_load
def report(config, period: str, out_dir: str, pdf: bool) -> None:
    """Write the province's period report: XLSX and DOCX (and PDF) ranking communes
    with counts, satisfaction and SIPAS indices."""
    from pathlib import Path

    from server.reports.figures import PeriodError

    from province import report as rep
    try:
        p = rep.parse_period(period)
    except PeriodError as e:
        raise click.ClickException(str(e)) from None
    pool = _pool(config)
    with contextlib.closing(pool):
        data = rep.build(pool, p, config.web.min_ratings)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = {"xlsx": rep.xlsx(data, config.province.name),
               "docx": rep.docx(data, config.province.name)}
    if pdf:
        from server.reports.pdf import PdfError, convert
        try:
            written["pdf"] = convert(written["docx"])
        except PdfError as e:
            raise click.ClickException(str(e)) from None
    for ext, body in written.items():
        path = folder / rep.file_name(data, ext)
        path.write_bytes(body)
        click.echo(str(path))


COMMANDS = (run, stats, add_commune, add_user, seed, report)
