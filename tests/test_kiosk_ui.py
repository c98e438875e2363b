"""The kiosk's screens driven by real pygame events on SDL's dummy display, with
assertions on the pixels drawn and on the rows in the real outbox."""

from __future__ import annotations

import pygame
from kiosk_ui_support import click, key, make_app, ratings, tap, target

from kiosk.ui import draw
from sync import contract


def colour_at(app, pos) -> tuple[int, int, int]:
    return tuple(app.surface.get_at((int(pos[0]), int(pos[1]))))[:3]


def test_idle_then_rating_faces_are_drawn(tmp_path):
    app, _ = make_app(tmp_path)
    assert app.screen.name == "idle"
    # the invitation band along the bottom is the brand blue
    assert colour_at(app, (400, 470 - 20)) == draw.BRAND
    tap(app, (400, 250))
    assert app.screen.name == "rating"
    best = target(app, "score:4")
    worst = target(app, "score:1")
    # the face centre (between eyes and mouth) carries the level's colour
    face_y = best.y + (best.h - int(best.h * 0.3)) // 2 + 4
    assert colour_at(app, (best.centerx, face_y)) == draw.FACE_COLOURS[4][0]
    assert colour_at(app, (worst.centerx, face_y)) == draw.FACE_COLOURS[4][3]
    assert ratings(app) == []


def test_high_score_is_stored_before_thank_you(tmp_path):
    app, clock = make_app(tmp_path)
    tap(app, (400, 250))
    tap(app, target(app, "score:4").center)
    [row] = ratings(app)
    assert (row["score"], row["scale"], row["_sealed"], row["suspect"]) == (4, 4, 1, None)
    assert app.screen.name == "thanks"
    clock.advance(app.flow.thanks_seconds + 0.1)
    app.step([])
    assert app.screen.name == "idle"


def test_low_score_follow_up_with_reasons_and_phone(tmp_path):
    app, _ = make_app(tmp_path)
    key(app, "4")  # keys 1..4 = faces left to right: 4 is "Không hài lòng"
    assert app.screen.name == "reasons"
    [row] = ratings(app)
    assert (row["score"], row["_sealed"]) == (1, 0)  # stored at once, follow-up pending
    tap(app, target(app, "reason:long-wait").center)
    tap(app, target(app, "reason:attitude").center)
    tap(app, target(app, "reason:attitude").center)  # untick
    # the ticked chip is filled with the selection colour
    chip = target(app, "reason:long-wait")
    assert colour_at(app, (chip.right - 10, chip.bottom - 10)) == draw.SELECTED
    tap(app, target(app, "done").center)
    assert app.screen.name == "phone"
    for digit in "0912345678":
        tap(app, target(app, f"digit:{digit}").center)
    tap(app, target(app, "send").center)
    assert app.screen.name == "thanks"
    [row] = ratings(app)
    assert row["_sealed"] == 1
    assert row["reasons"] == ["long-wait"]
    assert row["contact"]["phone"] == "0912345678"
    assert row["contact"]["consent"] is True
    assert "30" in row["contact"]["consent_text"]  # days the server keeps it
    contract.Contact(**row["contact"])  # valid against the contract


def test_doubled_touch_counts_once(tmp_path):
    app, _ = make_app(tmp_path)
    # One physical tap on idle arrives as FINGERDOWN and MOUSEBUTTONDOWN(touch=True):
    # it opens the rating screen and must not also rate the face under the finger.
    tap(app, (120, 300), double=True)
    assert app.screen.name == "rating"
    assert ratings(app) == []
    tap(app, target(app, "score:3").center, double=True)
    assert len(ratings(app)) == 1


def test_mouse_without_touch_still_works(tmp_path):
    app, _ = make_app(tmp_path)
    click(app, (400, 250))
    assert app.screen.name == "rating"


def test_cooldown_then_suspect_flag(tmp_path):
    app, clock = make_app(tmp_path, "[flow]\ncooldown = 1.0\nthanks_seconds = 1.0\n")
    key(app, "1")
    key(app, "1")  # during the cooldown and on the thank-you screen: ignored
    assert len(ratings(app)) == 1
    clock.advance(1.2)
    app.step([])
    assert app.screen.name == "idle"
    key(app, "1")  # 1.2 s after the last: stored, but no citizen rates that fast
    rows = ratings(app)
    assert len(rows) == 2
    assert rows[0]["suspect"] is None
    assert rows[1]["suspect"] == "too-fast"


def test_timeout_mid_follow_up_keeps_the_score(tmp_path):
    app, clock = make_app(tmp_path)
    key(app, "4")
    tap(app, target(app, "reason:late-result").center)
    assert app.screen.name == "reasons"
    clock.advance(app.flow.idle_timeout + 1)
    app.step([])
    assert app.screen.name == "idle"
    [row] = ratings(app)
    assert (row["score"], row["_sealed"]) == (1, 1)  # kept, and released to the uplink


def test_reasons_kept_when_citizen_leaves_at_phone(tmp_path):
    app, clock = make_app(tmp_path)
    key(app, "4")
    tap(app, target(app, "reason:many-trips").center)
    tap(app, target(app, "done").center)
    assert app.screen.name == "phone"
    clock.advance(app.flow.idle_timeout + 1)
    app.step([])
    [row] = ratings(app)
    assert row["reasons"] == ["many-trips"] and row["_sealed"] == 1 and row["contact"] is None


def test_one_rating_per_transaction(tmp_path):
    app, clock = make_app(tmp_path, "[flow]\nmode = \"transaction\"\ncooldown = 0.5\n"
                                     "thanks_seconds = 1.0\n")
    tap(app, (400, 250))
    key(app, "1")
    assert app.screen.name == "idle" and ratings(app) == []  # nothing open: no rating
    app.outbox.add_session(contract.Session(v=1, transaction="tx-42", official="cb-an",
                                            dossier="H-0042", procedure="Đăng ký khai sinh"))
    clock.advance(1)
    app.step([])
    assert app.screen.name == "rating"
    key(app, "2")
    [row] = ratings(app)
    assert (row["transaction"], row["official"], row["dossier"]) == ("tx-42", "cb-an", "H-0042")
    clock.advance(5)
    app.step([])
    key(app, "1")
    assert len(ratings(app)) == 1  # the transaction was rated once


def test_server_config_sets_scale_and_official(tmp_path):
    app, clock = make_app(tmp_path)
    app.outbox.save_config(contract.KioskConfig(
        v=1, revision=3, scale=5, on_duty="cb-binh",
        officials=[contract.Official(id="cb-binh", name="Trần Văn Bình")]))
    clock.advance(1)
    app.step([])
    tap(app, (400, 250))
    assert len([t for t in app.screen.targets if t.name.startswith("score:")]) == 5
    key(app, "1")
    [row] = ratings(app)
    assert (row["score"], row["scale"], row["official"]) == (5, 5, "cb-binh")


def test_technician_menu_behind_pin_and_sign_in(tmp_path):
    app, clock = make_app(tmp_path, "[flow]\ntech_pin = \"2468\"\n")
    app.outbox.save_config(contract.KioskConfig(
        v=1, revision=1, officials=[contract.Official(id="cb-an", name="Nguyễn Thị Ân")]))
    clock.advance(1)
    app.step([])
    for _ in range(5):  # five taps in the top-left corner
        tap(app, (10, 10), gap=0.4)
        clock.advance(0.3)
    assert app.screen.name == "pin"
    for d in "1111":
        tap(app, target(app, f"digit:{d}").center)
        clock.advance(0.5)
    tap(app, target(app, "ok").center)
    assert app.screen.name == "idle"  # wrong PIN: no hint, back to idle
    key(app, "F12")
    for d in "2468":
        key(app, d)
    key(app, "RETURN")
    assert app.screen.name == "tech"
    tap(app, target(app, "signin:cb-an").center)
    assert app.recorder.official == "cb-an"
    tap(app, target(app, "close").center)
    key(app, "1")
    assert ratings(app)[0]["official"] == "cb-an"


def test_language_switch(tmp_path):
    app, _ = make_app(tmp_path)
    tap(app, target(app, "lang").center)
    assert app.lang == "en"
    tap(app, (400, 250))
    assert app.screen.name == "rating"
    key(app, "1")
    assert ratings(app)[0]["lang"] == "en"


def test_outbox_failure_shows_out_of_order(tmp_path):
    app, _ = make_app(tmp_path)
    app.outbox.db.conn.close()  # the SD card went away
    key(app, "1")
    assert app.screen.name == "out_of_order"
    assert colour_at(app, (5, 5)) == draw.FAULT_BG
    pygame.display.quit()


def test_slow_double_tap_on_idle_does_not_rate(tmp_path):
    app, clock = make_app(tmp_path)
    tap(app, (120, 300))
    assert app.screen.name == "rating"
    clock.advance(0.2)  # the second tap of a double tap, away from the first spot
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(130, 320), button=1,
                                         touch=False))
    app.step(pygame.event.get())
    assert ratings(app) == []


def test_unrated_transaction_is_dropped_on_timeout(tmp_path):
    app, clock = make_app(tmp_path)
    app.outbox.add_session(contract.Session(v=1, transaction="tx-7", dossier="H-7"))
    clock.advance(1)
    app.step([])
    assert app.screen.name == "rating"
    clock.advance(app.flow.idle_timeout + 1)
    app.step([])
    assert app.screen.name == "idle"
    key(app, "1")  # a later citizen's rating is not filed under that dossier
    [row] = ratings(app)
    assert row["transaction"] is None and row["dossier"] is None
