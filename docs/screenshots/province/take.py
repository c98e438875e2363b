"""Screenshots of the province dashboard in headless Chromium, on seeded data.

    .venv/bin/python docs/screenshots/province/take.py

A throw-away PostgreSQL database (tests/province_support.py), 40 made-up communes
(a few with names) × 3,000 ratings over 400 days, SIPAS answers on a quarter of them; the
dashboard served in this process; PNGs saved next to this file, desktop (1366 wide)
and phone (390 wide).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from docs.screenshots.browser import chromium, login, save_page  # noqa: E402

from province import accounts, store  # noqa: E402
from province.config import load_province_config  # noqa: E402
from province.web import ProvinceWeb, quarter_key  # noqa: E402
from province_support import TempDatabase, province_toml  # noqa: E402

NAMES = ["UBND xã Tân Lập", "UBND xã Bảo Hà", "UBND phường Cốc Lếu", "UBND xã Mường Khương",
         "UBND xã Bắc Hà", "UBND xã Sa Pả", "UBND xã Văn Bàn", "UBND phường Kim Tân"]


def pages() -> list[tuple[str, str, int]]:
    q = quarter_key(store.local_day(time.time()))
    return [
        ("ranking", "/?days=90", 1366), ("ranking-phone", "/?days=90", 390),
        ("commune", "/commune/xa-demo-001", 1366),
        ("commune-phone", "/commune/xa-demo-001", 390),
        ("officials", "/commune/xa-demo-001/officials?days=90", 1366),
        ("sipas", f"/sipas?quarter={q}", 1366), ("sipas-phone", f"/sipas?quarter={q}", 390),
        ("reports", "/reports", 1366), ("reports-phone", "/reports", 390),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, TempDatabase() as db:
        path = province_toml(Path(tmp), db.url, 1883)
        text = path.read_text().replace("[store]", '[province]\nname = "Sở Nội vụ tỉnh '
                                        'Lào Cai"\n\n[store]')
        path.write_text(text)
        config = load_province_config(path)
        pool = store.connect(db.url)
        store.seed(pool, 40, 3000, survey_share=0.25)
        with pool.connection() as conn:
            for i, name in enumerate(NAMES, start=1):
                conn.execute("INSERT INTO communes (id, name, password_hash) VALUES "
                             "(%s, %s, '(screenshot)')", [f"xa-demo-{i:03d}", name])
            # one commune with too few to rank
            conn.execute("INSERT INTO daily_commune VALUES ('xa-moi', current_date, 12, 9, "
                         "1, 0)")
        accounts.add_user(pool, "nguyen.an", "province-admin", "mat-khau-demo")
        with ProvinceWeb(config, pool) as web:
            shoot(f"http://127.0.0.1:{web._server.effective_port}")
        pool.close()


def shoot(base: str) -> None:
    with chromium() as driver:
        driver.get(base + "/login")
        driver.save_screenshot(str(HERE / "login.png"))
        driver.set_window_size(390, 844)
        driver.save_screenshot(str(HERE / "login-phone.png"))
        driver.set_window_size(1366, 768)
        login(driver, base, "nguyen.an", "mat-khau-demo", go=False, button="form button")
        for name, path, width in pages():
            driver.get(base + path)
            save_page(driver, HERE / f"{name}.png", width)


if __name__ == "__main__":
    main()
