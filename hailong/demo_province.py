"""``hailong demo --province``: a province and its communes on one machine.

Each commune is what ``hailong demo`` runs for one (hailong/demo.py: its own broker,
commune server with its own SQLite store and dashboard port, kiosks and simulated
citizens), with a ``[province]`` section: it forwards every rating, stripped of contact
and free text, to the province broker with its own account. The province: a mosquitto
whose passwd and acl files come from ``hailong province add-commune`` (each commune may
write only its own topic), and ``hailong province run`` on a PostgreSQL database made
here on the local server. All on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from hailong.broker import LocalBroker, free_port
from hailong.demo import (echo_screen, has_display, hailong_command, hailong_process,
                          run_citizens, start_commune, stop_processes)

log = logging.getLogger(__name__)

PROVINCE_NAME = "Sở Nội vụ tỉnh Hài Lòng (demo)"
PROVINCE_USER = "hailong.province"
COMMUNES = (
    ("xa-an-phu", "UBND xã An Phú"), ("xa-binh-minh", "UBND xã Bình Minh"),
    ("xa-cat-tien", "UBND xã Cát Tiên"), ("xa-dong-tam", "UBND xã Đồng Tâm"),
    ("xa-hoa-binh", "UBND xã Hòa Bình"), ("xa-long-hung", "UBND xã Long Hưng"),
    ("xa-minh-duc", "UBND xã Minh Đức"), ("xa-tan-lap", "UBND xã Tân Lập"),
    ("xa-thanh-son", "UBND xã Thanh Sơn"), ("xa-yen-binh", "UBND xã Yên Bình"),
)

# Each demo commune its own character, so the province's ranking and SIPAS page have
# something to teach: (what it is, server/ingest/seed.py's options for its history).
CHARACTERS = (
    ("good: most citizens satisfied, few low ratings",
     {"weights": (0.74, 0.21, 0.03, 0.02), "low_weight": {"cb-vu-thi-giang": 0.5},
      "survey_share": 0.25, "survey_lean": {"access": 0.95, "procedure": 0.85,
                                            "official": 0.95, "result": 0.92,
                                            "feedback": 0.8}}),
    ("average: the usual spread", {"survey_share": 0.25}),
    ("a problem official (Lê Văn Cường, counter q2): many low ratings with reasons",
     {"weights": (0.50, 0.30, 0.12, 0.08),
      "low_weight": {"cb-le-van-cuong": 7.0, "cb-bui-thi-lan": 2.0},
      "survey_share": 0.25, "survey_lean": {"access": 0.85, "procedure": 0.6,
                                            "official": 0.55, "result": 0.75,
                                            "feedback": 0.45}}),
)


def shown(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def prepare_database(admin_url: str, name: str) -> tuple[str, bool]:
    """Make the demo's province database if missing; returns (its URL, made now).
    PostgreSQL not answering is one line saying so, not a traceback."""
    import psycopg
    from psycopg import sql
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone():
                made = False
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                made = True
    except psycopg.Error as e:
        text = " ".join(str(e).split()).split(" failed: ")[-1][:200] or type(e).__name__
        down = isinstance(e, psycopg.OperationalError) and (
            "refused" in text or "timeout" in text or "could not" in text)
        raise click.ClickException(
            (f"PostgreSQL is not reachable at {shown(admin_url)}: {text} Start it (`make "
             "setup` does) or name another server with --pg or HAILONG_PG." if down else
             f"PostgreSQL at {shown(admin_url)} refused the demo: {text} (--pg or "
             "HAILONG_PG: an admin URL that may create databases)")) from None
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}")), made


def province_toml(url: str, broker_port: int, web_port: int) -> str:
    return (f'[province]\nname = "{PROVINCE_NAME}"\n\n[store]\nurl = "{url}"\n\n'
            f'[broker]\nhost = "127.0.0.1"\nport = {broker_port}\n'
            f'username = "{PROVINCE_USER}"\npassword = "{secrets.token_urlsafe(18)}"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {web_port}\n\n'
            '[broker_files]\ndir = "broker"\n')


def province_broker(folder: Path, port: int) -> LocalBroker:
    """The province broker: no anonymous clients, the accounts and ACL that
    ``hailong province add-commune`` wrote in ``folder``."""
    conf = (f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {folder / 'passwd'}\nacl_file {folder / 'acl'}\n"
            "persistence false\nuse_username_as_clientid true\n")
    return LocalBroker(folder, port=port, conf=conf)


# The province dashboard's demo login: the Department of Home Affairs' admin, who also
# sees officials' figures (by id); ``hailong province add-user`` makes real ones.
PROVINCE_LOGIN = ("sonoivu", "hailong-demo")


def enrol(config_path: Path, communes: list[tuple[str, str]]) -> dict[str, str]:
    """Each commune's account on the province broker, as ``hailong province
    add-commune --rotate`` gives it (a new password every run: the last is not kept),
    and the province dashboard's demo login."""
    from province import accounts, store
    from province.brokerfiles import add_commune
    from province.config import load_province_config
    config = load_province_config(config_path)
    pool = store.connect(config.store.url, 1)
    try:
        accounts.add_user(pool, PROVINCE_LOGIN[0], "province-admin", PROVINCE_LOGIN[1])
        return {c: add_commune(config, pool, c, name, rotate=True) for c, name in communes}
    finally:
        pool.close()


def requeue_all(server_conf: Path) -> None:
    """A new province database holds nothing: queue every rating of this commune to be
    forwarded again (those already acked to the database the last run had included)."""
    from hailong.database import immediate
    from server.config import load_server_config
    from server.ingest.store import connect
    db = connect(load_server_config(server_conf).store.path)
    try:
        with immediate(db):
            db.execute("INSERT OR IGNORE INTO forward_outbox (rating_id, queued_at) "
                       "SELECT id, received_at FROM ratings ORDER BY received_at, id")
    finally:
        db.close()


def forwarding(host_port: int, commune: str, password: str) -> str:
    return (f'\n[province]\nenabled = true\nhost = "127.0.0.1"\nport = {host_port}\n'
            f'username = "{commune}"\npassword = "{password}"\n')


def run_province(folder: Path, *, communes: int, kiosks: int, every: float,
                 duration: float | None, stop: threading.Event, pg_admin: str,
                 database: str, seed_ratings: int) -> None:
    from server.web.serve import pick_port
    url, made = prepare_database(pg_admin, database)
    chosen = [COMMUNES[i] if i < len(COMMUNES) else (f"xa-demo-{i + 1:02d}",
                                                     f"UBND xã Demo {i + 1}")
              for i in range(communes)]
    pfolder = folder / "province"
    pfolder.mkdir(parents=True, exist_ok=True)
    # the dashboards' ports chosen first, one after the other, so no two are the same
    ports = [pick_port(preferred=8080 + i) for i in range(communes)]
    pport, web = free_port(), pick_port(preferred=8090)
    pconf = pfolder / "province.toml"
    pconf.write_text(province_toml(url, pport, web))
    passwords = enrol(pconf, chosen)  # before the broker starts: it reads these files
    with contextlib.ExitStack() as stack:
        pbroker = stack.enter_context(province_broker(pfolder / "broker", pport))
        server = [hailong_process("province", "run", "--config", str(pconf),
                                  log=pfolder / "province.log")]
        stack.callback(stop_processes, server)
        running = []
        for n, ((commune, name), port) in enumerate(zip(chosen, ports), start=1):
            running.append(start_commune(
                stack, folder / commune, commune, kiosks, name=name, web_port=port,
                extra=forwarding(pport, commune, passwords[commune]),
                screen=has_display() if n == 1 else None, seed_ratings=seed_ratings,
                seed_value=n, seed_options=CHARACTERS[(n - 1) % len(CHARACTERS)][1],
                before_start=requeue_all if made else None))
        # stopping: every process at once (each takes a few seconds), brokers after
        stack.callback(stop_processes, [p for c in running for p in c.processes] + server)
        character = {commune: CHARACTERS[i % len(CHARACTERS)][0]
                     for i, (commune, _) in enumerate(chosen)}
        cmd = hailong_command()
        click.echo(f"Hài Lòng demo: a province and {communes} communes — state in {folder}")
        click.echo(f"  province  {cmd} province run --config {pconf}  "
                   f"(log {pfolder / 'province.log'})")
        click.echo(f"            PostgreSQL database {database} at {shown(url)}"
                   f"{' (made now)' if made else ''}")
        click.echo(f"            broker 127.0.0.1:{pbroker.port}: an account per commune "
                   "(province add-commune), each writes only its own topic")
        click.echo(f"  figures   {cmd} province stats --config {pconf}")
        for c in running:
            click.echo(f"  commune   {c.id} ({c.name}): broker 127.0.0.1:{c.broker.port}, "
                       f"{kiosks} kiosk(s), forwarding as {c.id}")
            click.echo(f"            seeded history: {character[c.id]}")
            click.echo(f"            {cmd} server run --config {c.server_conf}  "
                       "(log server.log)")
        echo_screen(running[0], cmd)
        click.echo(f"Simulated citizens every {every:g} s at each kiosk. Dashboards:")
        for c in running:
            click.echo(f"  {c.id:<14} http://127.0.0.1:{c.web_port}/  login {c.login[0]} / "
                       f"{c.login[1]}")
        click.echo(f"  {'province':<14} http://127.0.0.1:{web}/  login {PROVINCE_LOGIN[0]} / "
                   f"{PROVINCE_LOGIN[1]}")
        click.echo("Ctrl-C stops everything.")
        run_citizens(running, every, duration, stop)
