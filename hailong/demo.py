"""``hailong demo``: the whole product on one machine.

A private mosquitto on a free port, the commune server on SQLite under a state
folder, and kiosks: each an uplink process plus simulated citizens rating through
the same path as the screen. Prints what runs where; Ctrl-C stops everything.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import requests

from hailong.broker import LocalBroker

COMMUNE = "xa-demo"

log = logging.getLogger(__name__)


def server_toml(*, commune: str, store: str, port: int, web_port: int = 8080,
                username: str = "", password: str = "", extra: str = "",
                store_url: str = "") -> str:
    url = f'url = "{store_url}"\n' if store_url else ""  # PostgreSQL (issue 12)
    return (f'[server]\ncommune = "{commune}"\ncommune_name = "UBND xã Hài Lòng"\n\n'
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


@click.command()
@click.option("--state", type=click.Path(file_okay=False), default="state/demo",
              show_default=True, help="folder for the demo's configs, databases and logs")
@click.option("--kiosks", type=click.IntRange(1, 20), default=2, show_default=True,
              help="how many simulated kiosks")
@click.option("--every", type=click.FloatRange(min=0.05), default=3.0, show_default=True,
              help="seconds between simulated citizens at each kiosk")
@click.option("--duration", type=float, default=None,
              help="stop after this many seconds (default: run until Ctrl-C)")
def demo(state: str, kiosks: int, every: float, duration: float | None) -> None:
    """Run broker, server and simulated kiosks on this machine."""
    from kiosk.config import load_kiosk_config
    from sync.outbox import Outbox
    from kiosk.recorder import Recorder
    from kiosk.simulate import simulate

    folder = Path(state).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    processes: list[subprocess.Popen] = []
    with LocalBroker(folder / "broker") as broker:
        server_conf = folder / "server.toml"
        from server.ingest.seed import prepare_demo
        from server.web.serve import pick_port
        web_port = pick_port()
        server_conf.write_text(server_toml(commune=COMMUNE, store="server.db", port=broker.port,
                                           web_port=web_port))
        username, password = prepare_demo(server_conf)  # a seeded dashboard to open
        # issue 9: a simulated queue system calls citizens through the session API
        from server.ingest import queue_sim
        token = queue_sim.prepare(server_conf, kiosks)  # enrolled, on the roster, a token
        queue = queue_sim.QueueSystem(f"http://127.0.0.1:{web_port}/", token)
        layout = queue_sim.counters(kiosks)
        processes.append(hailong_process("server", "run", "--config", str(server_conf),
                                         log=folder / "server.log"))
        recorders = []
        for n, (kiosk_id, counter, officials) in enumerate(layout, start=1):
            conf = folder / f"kiosk-k{n:02d}.toml"
            conf.write_text(kiosk_toml(kiosk=kiosk_id, commune=COMMUNE, counter=counter,
                                       store=f"kiosk-k{n:02d}.db", port=broker.port))
            processes.append(hailong_process("sync", "run", "--config", str(conf),
                                             log=folder / f"sync-k{n:02d}.log"))
            config = load_kiosk_config(conf)
            recorders.append((Recorder.from_config(config, Outbox(config.store.path)),
                              tuple(officials)))
        # The first kiosk's screen: a window when there is a desktop to show it on,
        # otherwise drawn off screen, and seen on demand with `kiosk snapshot`.
        screen = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        k01 = folder / "kiosk-k01.toml"
        processes.append(hailong_process("kiosk", "run", "--config", str(k01),
                                         *(() if screen else ("--headless",)),
                                         log=folder / "screen-k01.log"))

        cmd = hailong_command()
        click.echo(f"Hài Lòng demo — state in {folder}")
        if screen:
            click.echo("  screen   k01's rating screen in a window (log screen-k01.log)")
        else:
            click.echo("  screen   no display here (DISPLAY and WAYLAND_DISPLAY are not set): "
                       "k01's screen runs without a window. See what it shows now:")
            click.echo(f"           {cmd} kiosk snapshot --config {k01} --out k01.png")
        click.echo(f"  broker   mosquitto on 127.0.0.1:{broker.port}")
        click.echo(f"  server   {cmd} server run --config {server_conf}  (log server.log)")
        for n, (kiosk_id, counter, _) in enumerate(layout, start=1):
            click.echo(f"  kiosk    {kiosk_id} at counter {counter}: simulated citizens every "
                       f"{every:g} s, uplink log sync-k{n:02d}.log")
        click.echo("  queue    a simulated queue system sends each citizen's dossier to the "
                   "kiosk: POST /api/v1/sessions (token 'demo-queue')")
        click.echo(f"  figures  {cmd} server stats --config {server_conf}")
        click.echo(f"  fleet    {cmd} server fleet --config {server_conf}")
        click.echo(f"  dashboard http://127.0.0.1:{web_port}/  login {username} / {password}")
        click.echo("Ctrl-C stops everything.")

        rng = random.Random()
        started = time.monotonic()
        try:
            try:  # the queue system needs the server's API up
                from hailong.broker import BrokerError, wait_for_port
                wait_for_port("127.0.0.1", web_port, timeout=60)
            except BrokerError:
                click.echo("the server's dashboard did not come up; see server.log")
            # k01's screen runs (window or not) and would take k01's sessions itself, so
            # the queue system serves the other kiosks; k01 is rated whoever is on duty
            queued = set(range(1, kiosks)) if kiosks > 1 else {0}
            while not stop.wait(every / kiosks):
                n = rng.choice(range(kiosks))
                recorder, officials = recorders[n]
                rated = None
                if n in queued:
                    try:
                        queue.call_next(layout[n][1], officials)
                        rated = queue_sim.rate_session(recorder, rng)
                    except requests.RequestException as e:  # e.g. the server restarting
                        log.warning("queue system: session not sent: %s", str(e)[:120])
                if rated is None:  # no session came: a citizen rates whoever is on duty
                    simulate(recorder, 1, officials=officials)
                if duration is not None and time.monotonic() - started >= duration:
                    break
        finally:
            for p in processes:
                p.send_signal(signal.SIGTERM)
            for p in processes:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            for r, _ in recorders:
                r.outbox.close()
            queue.close()
    click.echo("demo stopped")
