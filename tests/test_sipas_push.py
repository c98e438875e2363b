"""SIPAS survey mode the whole way round (issue 12): `roster set-survey --on` on the
server, the running server pushes it with the roster through a real (ACL'd) mosquitto,
the kiosk's uplink stores it, the real kiosk app asks the questions, the answers go up
and the server's indices are what the citizens answered."""

from __future__ import annotations

import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
from conftest import wait_until  # noqa: E402
from fleet_site import FleetSite  # noqa: E402
from helpers import hailong, kiosk_status  # noqa: E402
from kiosk_ui_support import FakeClock  # noqa: E402

from kiosk.config import load_kiosk_config  # noqa: E402
from sync.outbox import Outbox  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402


def outbox_survey(kiosk_conf):
    with Outbox(load_kiosk_config(kiosk_conf).store.path) as outbox:
        config = outbox.config()
    return getattr(config, "survey", None) if config else None


def test_survey_mode_pushed_asked_answered_and_counted(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        k01 = site.add_kiosk("k01", "q1")
        site.reload()
        hailong("server", "roster", "set-survey", "--config", str(site.server_conf), "--on")
        procs(["server", "run", "--config", str(site.server_conf)], tmp_path / "server.log")
        procs(["sync", "run", "--config", str(k01)], tmp_path / "sync.log")
        wait_until(lambda: hasattr(outbox_survey(k01), "questions"), timeout=60,
                   message="the survey reached the kiosk")

        config = load_kiosk_config(k01)
        outbox = Outbox(config.store.path)
        pygame.display.init()
        clock = FakeClock()
        app = KioskApp(config, outbox, pygame.Surface((800, 480)), clock=clock)
        try:
            app.step([])
            assert app.survey is not None and len(app.survey.questions) == 5
            # citizen 1: rates 4, answers all five; citizen 2: rates 3, answers two, skips
            for score, answers in ((4, [4, 4, 3, 2, 1]), (3, [1, 3])):
                clock.advance(60)
                app.start_rating()
                app.screen.on_target(f"score:{score}")
                for level in answers:
                    assert app.screen.name == "survey"
                    app.screen.on_target(f"answer:{level}")
                if app.screen.name == "survey":
                    app.screen.on_target("skip")
                assert app.screen.name == "thanks"
        finally:
            app.close()
            outbox.close()
            pygame.display.quit()
        wait_until(lambda: kiosk_status(k01)["acked"] == 2, timeout=60, message="acked")
        out = json.loads(hailong("server", "sipas", "--config", str(site.server_conf),
                                 "--json").stdout)
        mine = out["communes"]["xa-fleet"]
        # access 4,1 -> 1/2; procedure 4,3 -> 2/2; official 3 -> 1/1; result 2 -> 0/1;
        # feedback 1 -> 0/1; overall (50 + 100 + 100 + 0 + 0) / 5 = 50
        assert {k: f["index"] for k, f in mine["factors"].items()} == {
            "access": 50.0, "procedure": 100.0, "official": 100.0, "result": 0.0,
            "feedback": 0.0}
        assert mine["overall"] == 50.0 and mine["answers"] == 7
