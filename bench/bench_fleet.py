"""Fleet figures: enrolment, broker reload, and how long a roster change takes to reach
every kiosk through the generated (locked-down) broker and the running server.

50 kiosks are enrolled (each its own account), each represented by a paho client
logged in with its own password and subscribed to its own config topic, as the
uplink is. Prints one JSON line of figures last.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from hailong.broker import LocalBroker, free_port  # noqa: E402
from server.fleet.broker_config import refresh_credentials  # noqa: E402
from server.fleet.kiosks import Fleet  # noqa: E402
from server.fleet.fleet_cli import admin_config  # noqa: E402
from server.fleet.roster import Roster  # noqa: E402
from server.ingest.store import connect  # noqa: E402
from sync import contract  # noqa: E402

KIOSKS = 50
COMMUNE = "xa-bench"


def hailong(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "hailong", *args], check=True,
                   capture_output=True, timeout=120)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="hailong-bench-fleet-"))
    port = free_port()
    conf = folder / "server.toml"
    conf.write_text(f'[server]\ncommune = "{COMMUNE}"\n[store]\npath = "server.db"\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {port}\nusername = "hailong.server"\n'
                    'password_file = "secrets/broker-password"\n'
                    f'[web]\nport = {free_port()}\n[fleet]\npush_interval = 0.2\n')
    hailong("server", "broker-config", "--config", str(conf), "--out", str(folder / "broker"))
    config = admin_config(conf)

    db = connect(config.store.path)
    fleet, roster = Fleet(db, COMMUNE), Roster(db)
    started = time.perf_counter()
    passwords = {f"k{n:03d}": fleet.enrol(f"k{n:03d}", f"q{n % 5}") for n in range(KIOSKS)}
    enrol_ms = (time.perf_counter() - started) * 1000 / KIOSKS
    refresh_credentials(config, fleet)
    started = time.perf_counter()
    hailong("server", "add-kiosk", "--config", str(conf), "--kiosk", "kcli", "--counter", "q1",
            "--out", str(folder / "bundle"))
    add_kiosk_cli_s = time.perf_counter() - started

    broker = LocalBroker(folder / "broker", port=port,
                         conf=(folder / "broker" / "mosquitto.conf").read_text()).start()
    server = subprocess.Popen([sys.executable, "-m", "hailong", "server", "run", "--config",
                               str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        log = broker.log_path
        before = log.read_text().count("Reloading config")
        started = time.perf_counter()
        broker.process.send_signal(signal.SIGHUP)
        while log.read_text().count("Reloading config") == before:
            time.sleep(0.01)
        reload_s = time.perf_counter() - started

        latest: dict[str, int] = {}
        lock = threading.Lock()
        clients = []
        started = time.perf_counter()
        connected = threading.Semaphore(0)
        for kiosk, password in passwords.items():
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=kiosk)
            c.username_pw_set(kiosk, password)

            def on_connect(cl, u, f, rc, p, kiosk=kiosk):
                cl.subscribe(contract.topic(COMMUNE, kiosk, "config"), qos=1)
                connected.release()

            def on_message(cl, u, m, kiosk=kiosk):
                with lock:
                    latest[kiosk] = contract.decode_config(m.payload).revision
            c.on_connect, c.on_message = on_connect, on_message
            c.connect("127.0.0.1", port)
            c.loop_start()
            clients.append(c)
        for _ in clients:
            connected.acquire(timeout=30)
        connect_all_s = time.perf_counter() - started

        deadline = time.perf_counter() + 60
        while len(latest) < KIOSKS:  # every kiosk has its first config
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {len(latest)} kiosks got a first config in 60 s")
            time.sleep(0.05)
        pushes = []
        for n in range(5):
            with lock:
                before = dict(latest)
            roster.add_official(f"cb-{n}", f"Cán bộ {n}")
            roster.set_on_duty("q1", f"cb-{n}")
            started = time.perf_counter()
            # the server's pusher notices within push_interval and publishes 51 configs
            while True:
                with lock:
                    if all(latest[k] > before[k] for k in passwords):
                        break
                if time.perf_counter() - started > 60:
                    raise SystemExit("config did not reach every kiosk in 60 s")
                time.sleep(0.005)
            pushes.append(time.perf_counter() - started)
        size = len(db.execute("SELECT body FROM config_pushes ORDER BY revision DESC "
                              "LIMIT 1").fetchone()[0])
        for c in clients:
            c.disconnect()
            c.loop_stop()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        broker.stop()
        db.close()
    print(json.dumps({
        "bench": "fleet", "kiosks": KIOSKS,
        "enrol_ms_per_kiosk": round(enrol_ms, 2),
        "add_kiosk_cli_s": round(add_kiosk_cli_s, 2),
        "broker_reload_s": round(reload_s, 3),
        "connect_all_kiosks_s": round(connect_all_s, 2),
        "roster_change_to_all_kiosks_s_median": round(statistics.median(pushes), 2),
        "roster_change_to_all_kiosks_s_max": round(max(pushes), 2),
        "push_interval_s": 0.2, "config_bytes": size,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
