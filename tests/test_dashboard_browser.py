"""End to end in a real headless Chromium: a kiosk records a low rating, its uplink
sends it through mosquitto to a real ``hailong server run``; a leader logs in, sees it
appear, opens its case, records an outcome, downloads the apology letter and the
quarterly XLSX, and the files hold what they should."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import docx
import openpyxl
import pytest

from hailong.demo import server_toml
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import Recorder, Transaction
from server.reports.figures import parse_period

from conftest import COMMUNE, wait_until

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are needed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chrome(download_dir: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--window-size=1280,1000", "--lang=vi"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False, "safebrowsing.enabled": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(download_dir)})
    driver.set_page_load_timeout(30)
    return driver


def downloaded(folder: Path, suffix: str) -> Path | None:
    done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
    partial = list(folder.glob("*.crdownload"))
    return done[0] if done and not partial else None


def test_low_rating_to_letter_and_report_in_chromium(tmp_path, broker, site, procs):
    from selenium.webdriver.common.by import By

    web_port = free_port()
    server_conf = tmp_path / "dash-server.toml"
    server_conf.write_text(server_toml(commune=COMMUNE, store=str(tmp_path / "dash.db"),
                                       port=broker.port, web_port=web_port))
    r = subprocess.run([sys.executable, "-m", "hailong", "server", "add-user", "--config",
                        str(server_conf), "--username", "chutich", "--role", "leader"],
                       input="mat-khau-chu-tich\n", text=True, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    procs(["server", "run", "--config", str(server_conf)], tmp_path / "server.log")
    base = f"http://127.0.0.1:{web_port}"

    def web_up():
        try:
            return urllib.request.urlopen(base + "/login", timeout=2).status == 200
        except OSError:
            return False
    wait_until(web_up, timeout=60, message="dashboard up")

    # A citizen at kiosk k07 rates the official 1/4 and says why.
    kiosk_conf = site.kiosk("k07")
    config = load_kiosk_config(kiosk_conf)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        recorder.transaction = Transaction(id="t-1", official="cb-duyen", dossier="H2026-0042",
                                           procedure="Đăng ký khai sinh", field="Hộ tịch")
        low = recorder.press(1, sealed=False)
        recorder.amend(low.id, reasons=["long-wait", "attitude"])
    procs(["sync", "run", "--config", str(kiosk_conf)], tmp_path / "sync.log")

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome(downloads)
    try:
        driver.get(base + "/")
        assert "/login" in driver.current_url
        driver.find_element(By.NAME, "username").send_keys("chutich")
        driver.find_element(By.NAME, "password").send_keys("mat-khau-chu-tich")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: "/login" not in driver.current_url, timeout=20)
        assert "Tổng quan" in driver.page_source

        # The low rating arrives through mosquitto and opens a case.
        def case_listed():
            driver.get(base + "/cases")
            return "cb-duyen" in driver.page_source
        wait_until(case_listed, timeout=60, interval=1, message="case in the queue")
        driver.find_element(By.PARTIAL_LINK_TEXT, "#").click()
        page = driver.page_source
        assert "H2026-0042" in page and "Chờ đợi lâu" in page and "cb-duyen" in page

        driver.find_element(By.CSS_SELECTOR, "input[name=outcome][value=apologised]").click()
        driver.find_element(By.CSS_SELECTOR, "#close-form textarea").send_keys(
            "Đã gọi điện xin lỗi bà")
        driver.find_element(By.CSS_SELECTOR, "#close-form button[type=submit]").click()
        wait_until(lambda: "Đã lưu" in driver.page_source, timeout=20)
        assert "Đã xin lỗi người dân" in driver.page_source
        assert "Đóng phản ánh: Đã xin lỗi người dân" in driver.page_source  # the audit, in words

        driver.find_element(By.PARTIAL_LINK_TEXT, "Thư xin lỗi").click()
        letter = wait_until(lambda: downloaded(downloads, ".docx"), timeout=30)
        d = docx.Document(io.BytesIO(letter.read_bytes()))
        header = "\n".join(c.text for c in d.tables[0].rows[0].cells)
        body = "\n".join(p.text for p in d.paragraphs)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header and "XÃ HÀI LÒNG" in header
        assert "THƯ XIN LỖI" in body and "H2026-0042" in body

        quarter = parse_period("quarter").key
        driver.get(f"{base}/reports?period={quarter}")
        driver.find_element(By.LINK_TEXT, "XLSX").click()
        sheet = wait_until(lambda: downloaded(downloads, ".xlsx"), timeout=30)
        wb = openpyxl.load_workbook(io.BytesIO(sheet.read_bytes()))
        summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
        assert summary["Số lượt đánh giá"] == 1 and summary["Không hài lòng"] == 1
        assert summary["Đã xin lỗi người dân"] == 1
        officials = list(wb["Công chức"].iter_rows(values_only=True))
        assert any(row[0] == "cb-duyen" and row[2] == 1 and row[5] == 1 for row in officials)
    finally:
        driver.quit()
