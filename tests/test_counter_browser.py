"""The counter page in a real headless Chromium at phone size (issue 9): the official
logs in and lands on it, the dossier field has the focus, a USB scanner's code + Enter
sends the session to the kiosk's topic on the real broker, and the field is ready for
the next citizen."""

from __future__ import annotations

import shutil
import threading

import pytest

from server import accounts
from server.ingest import feed
from server.fleet.roster import Roster
from server.ingest.store import connect
from server.web.serve import WebServer
from sync.mqtt import make_client

from dashboard_support import PASSWORD, load
from feed_support import SessionSpy, prepare_site
from test_dashboard_browser import CHROMEDRIVER, CHROMIUM, chrome

pytestmark = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are needed")

DOSSIER = "000.31.12.H29-241123-0042"


def test_scan_and_enter_invites_a_rating(tmp_path, broker):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    config = load(tmp_path, f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    prepare_site(config.store, "xa-test")
    db = connect(config.store)
    Roster(db).set_on_duty("q1", "cb-an")
    accounts.add_user(db.conn, "an", "official", PASSWORD)
    feed.link_official(db.conn, "an", "cb-an")
    db.close()
    connected = threading.Event()
    client = make_client(config.broker, "test-server")
    client.on_connect = lambda *a: connected.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.wait(10)
    spy = SessionSpy(broker.port, "xa-test")
    driver = chrome(tmp_path)
    try:
        with WebServer(config, feed.MqttPublisher(client, connected)) as web:
            driver.set_window_size(390, 844)
            driver.get(web.url + "login")
            driver.find_element(By.NAME, "username").send_keys("an")
            driver.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
            assert driver.current_url.endswith("/counter")
            field = driver.switch_to.active_element
            assert field.get_attribute("name") == "dossier"
            button = driver.find_element(By.CSS_SELECTOR, "button.invite")
            assert button.size["height"] >= 60 and button.size["width"] >= 300
            field.send_keys(DOSSIER + Keys.ENTER)  # a scanner: the code, then Enter
            [session] = spy.wait_for(1)
            assert (session.dossier, session.official) == (DOSSIER, "cb-an")
            assert DOSSIER in driver.find_element(By.CSS_SELECTOR, "p.ok").text
            assert driver.switch_to.active_element.get_attribute("name") == "dossier"
    finally:
        driver.quit()
        spy.close()
        client.loop_stop()
        client.disconnect()
