"""Remake docs/screenshots/province/ranking.png: a throw-away PostgreSQL database seeded
with 12 made-up communes, `hailong province run`, headless Chromium.

    .venv/bin/python docs/screenshots/province/take.py
"""
import os
ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]
os.chdir(ROOT)
import sys, time, subprocess, tempfile
from pathlib import Path
sys.path.insert(0, "tests"); sys.path.insert(0, ".")
from province_support import TempDatabase, province_toml
from hailong.broker import free_port
with tempfile.TemporaryDirectory() as tmp, TempDatabase() as pg:
    conf = province_toml(Path(tmp), pg.url, free_port())
    text = conf.read_text().replace("[store]", '[province]\nname = "Sở Nội vụ tỉnh (demo)"\n\n[store]', 1)
    conf.write_text(text)
    port = int(text.split("[web]\nport = ")[1].split("\n")[0])
    subprocess.run([sys.executable, "-m", "hailong", "province", "seed", "--config", str(conf), "--communes", "12", "--ratings", "400"], check=True)
    p = subprocess.Popen([sys.executable, "-m", "hailong", "province", "run", "--config", str(conf)], env={"HAILONG_BROKER_PASSWORD": "x", "PATH": "/usr/bin:/bin"}, stderr=subprocess.DEVNULL)
    time.sleep(3)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,800",
                    f"--screenshot={Path('docs/screenshots/province/ranking.png').resolve()}", f"http://127.0.0.1:{port}/?days=365"], capture_output=True, timeout=60)
    p.terminate(); p.wait()
