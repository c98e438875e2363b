"""``hailong demo``: the whole product on one machine.

One commune (``hailong demo``): a private mosquitto on a free port, the commune server
on SQLite under a state folder, and kiosks: each an uplink process plus simulated
citizens rating through the same path as the screen. Prints what runs where; Ctrl-C
stops everything.

A province (``hailong demo --province``, ``make demo-province``): the same for each of
``--communes N`` communes (3 by default; each its own broker, its own server with its
own SQLite store and dashboard port, its own kiosks), and a province on top: a province
broker (each commune's own account from ``hailong province add-commune``, the ACL
letting it write only its own topic), and ``hailong province run`` on a PostgreSQL
database it makes on the local server (``hailong_demo_province``; the admin URL from
``--pg`` or ``HAILONG_PG``). Each commune server forwards its ratings, without contact
or free text, to the province (server/ingest/forward.py); the province dashboard ranks
the communes. See hailong/demo_province.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests

from hailong.broker import LocalBroker

COMMUNE = "xa-demo"
COMMUNE_NAME = "UBND xã Hài Lòng"

log = logging.getLogger(__name__)


def server_toml(*, commune: str, store: str, port: int, web_port: int = 8080,
                username: str = "", password: str = "", extra: str = "",
                name: str = COMMUNE_NAME, store_url: str = "") -> str:
    url = f'url = "{store_url}"\n' if store_url else ""  # PostgreSQL (issue 12)
    return (f'[server]\ncommune = "{commune}"\ncommune_name = "{name}"\n\n'
            f'[store]\npath = "{store}"\n{url}\n'
            f'[broker]\nhost = "127.0.0.1"\nport = {port}\n'
            f'username = "{username}"\npassword = "{password}"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {web_port}\n{extra}')


def kiosk_toml(*, kiosk: str, commune: str, store: str, port: int, counter: str = "q1",
               username: str = "", password: str = "", clock: str = "synced",
               extra: str = "") -> str:
    return (f'[kiosk]\nid = "{kiosk}"\ncommune = "{commune}"\ncounter = "{counter}"\n\n'
            f'[store]\npath = "{store}"\n\n'
            f'[broker]\nhost = "127.0.0.1"\nport = {port}\n'
            f'username = "{username}"\npassword = "{password}"\n\n'
            f'[clock]\nassume = "{clock}"\n{extra}')


def hailong_command() -> str:
    """How to run `hailong` from here, as typed: `.venv/bin/hailong` from the checkout
    (it is not on PATH), else the full path, else `python -m hailong`."""
    script = Path(sys.executable).parent / "hailong"
    if not script.exists():
        return f"{sys.executable} -m hailong"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def hailong_process(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hailong", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once (each stops cleanly in parallel), then wait; SIGKILL what
    is still there after 10 s."""
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@dataclass
class Commune:
    """One commune running here: its broker, server, uplinks and simulated citizens."""
    id: str
    name: str
    folder: Path
    broker: LocalBroker
    server_conf: Path
    web_port: int
    login: tuple[str, str]
    layout: list
    queue: object
    screen: bool | None           # None: no kiosk screen; else a window (True) or not
    processes: list[subprocess.Popen] = field(default_factory=list)
    recorders: list = field(default_factory=list)
    queued: set = field(default_factory=set)   # kiosks whose citizens the queue calls

    def close(self) -> None:
        for r, _ in self.recorders:
            r.outbox.close()
        self.queue.close()

    def citizen(self, n: int, rng: random.Random) -> None:
        """One simulated citizen rates at kiosk ``n``."""
        from kiosk.simulate import simulate
        from server.ingest import queue_sim
        recorder, officials = self.recorders[n]
        rated = None
        if n in self.queued:
            try:
                self.queue.call_next(self.layout[n][1], officials)
                rated = queue_sim.rate_session(recorder, rng)
            except requests.RequestException as e:  # e.g. the server restarting
                log.warning("queue system: session not sent: %s", str(e)[:120])
        if rated is None:  # no session came: a citizen rates whoever is on duty
            simulate(recorder, 1, officials=officials)


def start_commune(stack: contextlib.ExitStack, folder: Path, commune: str, kiosks: int, *,
                  name: str = COMMUNE_NAME, web_port: int = 0, extra: str = "",
                  screen: bool | None = None, seed_ratings: int | None = None,
                  seed_value: int = 1, seed_options: dict | None = None,
                  before_start=None) -> Commune:
    """Start one commune under ``folder`` (its broker's lifetime tied to ``stack``).
    ``extra``: more server config (the [province] section); ``seed_ratings``: a year of
    made-up ratings in a new store (None: prepare_demo's default), ``seed_options`` the
    commune's character for them (server/ingest/seed.py's seed); ``before_start``:
    called with the server's config file before any process starts."""
    from kiosk.config import load_kiosk_config
    from kiosk.recorder import Recorder
    from server.ingest import queue_sim
    from server.ingest.seed import prepare_demo, seed
    from server.web.serve import pick_port
    from sync.outbox import Outbox

    folder.mkdir(parents=True, exist_ok=True)
    broker = stack.enter_context(LocalBroker(folder / "broker"))
    server_conf = folder / "server.toml"
    web_port = web_port or pick_port()
    server_conf.write_text(server_toml(commune=commune, store="server.db", port=broker.port,
                                       web_port=web_port, name=name, extra=extra))
    if seed_ratings is not None:
        _seed_once(server_conf, seed_ratings, seed_value, seed, seed_options or {})
    # a seeded dashboard to open (seeded above already, if seed_ratings says how much)
    login = prepare_demo(server_conf, **({} if seed_ratings is None else
                                         {"ratings": seed_ratings}))
    # issue 9: a simulated queue system calls citizens through the session API
    token = queue_sim.prepare(server_conf, kiosks)  # enrolled, on the roster, a token
    c = Commune(commune, name, folder, broker, server_conf, web_port, login,
                queue_sim.counters(kiosks),
                queue_sim.QueueSystem(f"http://127.0.0.1:{web_port}/", token), screen)
    if before_start:
        before_start(server_conf)
    stack.callback(c.close)
    stack.callback(stop_processes, c.processes)  # first out: before broker and outboxes
    c.processes.append(hailong_process("server", "run", "--config", str(server_conf),
                                       log=folder / "server.log"))
    for n, (kiosk_id, counter, officials) in enumerate(c.layout, start=1):
        conf = folder / f"kiosk-k{n:02d}.toml"
        conf.write_text(kiosk_toml(kiosk=kiosk_id, commune=commune, counter=counter,
                                   store=f"kiosk-k{n:02d}.db", port=broker.port))
        c.processes.append(hailong_process("sync", "run", "--config", str(conf),
                                           log=folder / f"sync-k{n:02d}.log"))
        config = load_kiosk_config(conf)
        c.recorders.append((Recorder.from_config(config, Outbox(config.store.path)),
                            tuple(officials)))
    if screen is None:
        c.queued = set(range(kiosks))
    else:
        # The first kiosk's screen: a window when there is a desktop to show it on,
        # otherwise drawn off screen, and seen on demand with `kiosk snapshot`.
        c.processes.append(hailong_process("kiosk", "run", "--config",
                                           str(folder / "kiosk-k01.toml"),
                                           *(() if screen else ("--headless",)),
                                           log=folder / "screen-k01.log"))
        # k01's screen takes k01's sessions itself, so the queue system serves the
        # other kiosks; k01 is rated whoever is on duty
        c.queued = set(range(1, kiosks)) if kiosks > 1 else {0}
    return c


def _seed_once(server_conf: Path, count: int, seed_value: int, seed, options: dict) -> None:
    from server.config import load_server_config
    from server.ingest.store import connect
    config = load_server_config(server_conf)
    db = connect(config.store.path)
    try:
        if not db.execute("SELECT 1 FROM ratings LIMIT 1").fetchone() and count:
            # seed_value differs per commune: the same one would give every commune
            # the same rating ids, and the province keeps one rating per id
            seed(db, count, commune=config.server.commune, seed_value=seed_value,
                 low_at_or_below=config.followup.low_at_or_below,
                 deadline_days=config.followup.deadline_days, **options)
    finally:
        db.close()


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def echo_screen(c: Commune, cmd: str) -> None:
    k01 = c.folder / "kiosk-k01.toml"
    if c.screen:
        click.echo(f"  screen   k01's rating screen in a window "
                   f"(log {c.folder / 'screen-k01.log'})")
    else:
        click.echo("  screen   no display here (DISPLAY and WAYLAND_DISPLAY are not set): "
                   "k01's screen runs without a window. See what it shows now:")
        click.echo(f"           {cmd} kiosk snapshot --config {k01} --out k01.png")


def run_citizens(communes: list[Commune], every: float, duration: float | None,
                 stop: threading.Event) -> None:
    """Simulated citizens at every kiosk of every commune until ``stop`` or
    ``duration``; a citizen every ``every`` seconds at each kiosk on average."""
    from hailong.broker import BrokerError, wait_for_port
    for c in communes:  # the queue system needs each server's API up
        if stop.is_set():
            return
        try:
            wait_for_port("127.0.0.1", c.web_port, timeout=60)
        except BrokerError:
            click.echo(f"{c.id}: the server's dashboard did not come up; see "
                       f"{c.folder / 'server.log'}")
    kiosks = [(c, n) for c in communes for n in range(len(c.layout))]
    rng = random.Random()
    started = time.monotonic()
    try:
        while not stop.wait(every / len(kiosks)):
            c, n = rng.choice(kiosks)
            c.citizen(n, rng)
            if duration is not None and time.monotonic() - started >= duration:
                break
    finally:  # no keep-alive connection of ours left open while the servers stop
        for c in communes:
            c.queue.close()


@click.command()
@click.option("--state", type=click.Path(file_okay=False), default=None,
              help="folder for the demo's configs, databases and logs  [default: "
                   "state/demo, or state/demo-province with --province]")
@click.option("--kiosks", type=click.IntRange(1, 20), default=2, show_default=True,
              help="how many simulated kiosks (in each commune)")
@click.option("--every", type=click.FloatRange(min=0.05), default=3.0, show_default=True,
              help="seconds between simulated citizens at each kiosk")
@click.option("--duration", type=float, default=None,
              help="stop after this many seconds (default: run until Ctrl-C)")
@click.option("--province", "with_province", is_flag=True,
              help="a province on PostgreSQL and several communes forwarding to it")
@click.option("--communes", type=click.IntRange(1, 10), default=3, show_default=True,
              help="with --province: how many communes, each with its own broker, "
                   "server and kiosks")
@click.option("--seed-ratings", type=click.IntRange(min=0), default=None,
              help="made-up ratings put in each new commune store  [default: 50000; "
                   "10000 a commune with --province]")
@click.option("--pg", envvar="HAILONG_PG", show_envvar=True,
              default="postgresql://postgres@127.0.0.1:5432/postgres", show_default=True,
              help="with --province: PostgreSQL admin URL the demo database is made with")
@click.option("--pg-database", default="hailong_demo_province", show_default=True,
              help="with --province: the demo's province database (made if missing)")
def demo(state: str | None, kiosks: int, every: float, duration: float | None,
         with_province: bool, communes: int, seed_ratings: int | None, pg: str,
         pg_database: str) -> None:
    """Run broker, server and simulated kiosks on this machine (with --province: a
    province server and several communes)."""
    if not with_province:  # said on the command line, they would be ignored silently
        ctx = click.get_current_context()
        for name in ("communes", "pg", "pg_database"):
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
                raise click.UsageError(f"--{name.replace('_', '-')} goes with --province")
    folder = Path(state or ("state/demo-province" if with_province else "state/demo")
                  ).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if with_province:
        from hailong.demo_province import run_province
        run_province(folder, communes=communes, kiosks=kiosks, every=every,
                     duration=duration, stop=stop, pg_admin=pg, database=pg_database,
                     seed_ratings=10_000 if seed_ratings is None else seed_ratings)
        click.echo("demo stopped")
        return

    with contextlib.ExitStack() as stack:
        c = start_commune(stack, folder, COMMUNE, kiosks, screen=has_display(),
                          web_port=_port(8080), seed_ratings=seed_ratings)
        cmd = hailong_command()
        click.echo(f"Hài Lòng demo — state in {folder}")
        echo_screen(c, cmd)
        click.echo(f"  broker   mosquitto on 127.0.0.1:{c.broker.port}")
        click.echo(f"  server   {cmd} server run --config {c.server_conf}  "
                   "(log server.log)")
        for n, (kiosk_id, counter, _) in enumerate(c.layout, start=1):
            click.echo(f"  kiosk    {kiosk_id} at counter {counter}: simulated citizens "
                       f"every {every:g} s, uplink log sync-k{n:02d}.log")
        click.echo("  queue    a simulated queue system sends each citizen's dossier to "
                   "the kiosk: POST /api/v1/sessions (token 'demo-queue')")
        click.echo(f"  figures  {cmd} server stats --config {c.server_conf}")
        click.echo(f"  fleet    {cmd} server fleet --config {c.server_conf}")
        click.echo(f"  dashboard http://127.0.0.1:{c.web_port}/  login {c.login[0]} / "
                   f"{c.login[1]}")
        click.echo("Ctrl-C stops everything.")
        run_citizens([c], every, duration, stop)
    click.echo("demo stopped")


def _port(preferred: int) -> int:
    from server.web.serve import pick_port
    return pick_port(preferred=preferred)
