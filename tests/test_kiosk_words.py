"""Issue 9's small things on screen: the neutral face, the words, and the tools around
the flow (voice prompts, status figures), on the real app and real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from kiosk_ui_support import key, make_app, ratings, tap, target, write_config

from kiosk.ui import draw
from kiosk.ui.i18n import translator
from sync import contract


def test_neutral_face_is_flat_and_neutral_coloured():
    for scale in (3, 4, 5):
        assert draw.mood_for(draw.neutral_score(scale), scale) == 0.0  # a flat mouth
        assert draw.mood_for(scale, scale) == 1.0 and draw.mood_for(1, scale) == -1.0
    # on 4 levels "Bình thường" (the third face) is yellow like 3 and 5 levels, not orange
    assert draw.FACE_COLOURS[4][2] == draw.FACE_COLOURS[5][2] == (240, 190, 0)


def test_counter_name_is_not_prefixed_twice(tmp_path):
    app, clock = make_app(tmp_path)
    app.outbox.save_config(contract.KioskConfig(v=1, revision=1,
                                                counter_name="Quầy 1 – Tư pháp"))
    clock.advance(1)
    app.step([])
    assert app.counter_title() == "Quầy 1 – Tư pháp"
    app.outbox.save_config(contract.KioskConfig(v=1, revision=2, counter_name="1 – Tư pháp"))
    clock.advance(1)
    app.step([])
    assert app.counter_title() == "Quầy 1 – Tư pháp"


def test_transaction_idle_text_is_not_a_button_and_not_done_days_later(tmp_path):
    app, clock = make_app(tmp_path, "[flow]\nmode = \"transaction\"\n")
    vi = translator("vi")("When the official has finished serving you, this screen will "
                          "ask for your rating")
    assert "giải quyết xong" not in vi
    app.render()
    # the bottom band is no longer filled with the brand blue of the buttons
    w, h = app.surface.get_size()
    band = [tuple(app.surface.get_at((x, h - 30)))[:3] for x in range(20, w - 20, 40)]
    assert draw.BRAND not in band


def test_low_thank_you_promises_a_call_only_with_a_number(tmp_path):
    t = translator("vi")
    app, clock = make_app(tmp_path)
    key(app, "4")
    tap(app, target(app, "done").center)
    tap(app, target(app, "no").center)
    assert app.screen.name == "thanks" and app.screen.contact is False
    without = t("The commune will look into your feedback.")
    assert "gọi lại" not in without and "phản hồi" not in without
    assert "gọi lại" in t("The commune will look into it and call you back.")
    [row] = ratings(app)
    assert row["contact"] is None


def test_voice_command_writes_vietnamese_prompts_and_keeps_recordings(tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (make setup installs it)")
    config = write_config(tmp_path)
    folder = tmp_path / "voice"
    folder.mkdir()
    (folder / "thanks.wav").write_bytes(b"recorded by the commune")
    exe = Path(sys.executable).with_name("hailong")
    out = subprocess.run([str(exe), "kiosk", "voice", "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in ("prompt", "reasons"):
        with wave.open(str(folder / f"{name}.wav")) as w:
            assert w.getnframes() / w.getframerate() > 1.0  # a spoken sentence
    assert (folder / "thanks.wav").read_bytes() == b"recorded by the commune"


def test_status_json_has_scores_suspects_and_the_open_session(tmp_path):
    config = write_config(tmp_path)
    exe = Path(sys.executable).with_name("hailong")

    def status() -> dict:
        out = subprocess.run([str(exe), "kiosk", "status", "--config", str(config), "--json"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    from kiosk.config import load_kiosk_config
    from sync.outbox import Outbox
    with Outbox(load_kiosk_config(config).store.path) as outbox:
        outbox.add_session(contract.Session(v=1, transaction="tx-9", dossier="H-9"))
    report = status()
    assert report["open_session"] == "H-9" and report["by_score"] == {}
    assert report["suspect"] == 0
    subprocess.run([str(exe), "kiosk", "simulate", "--config", str(config), "--count", "2",
                    "--seed", "1"], check=True, capture_output=True, timeout=60)
    report = status()
    assert report["open_session"] is None  # simulate took it first, as the screen does
    assert sum(report["by_score"].values()) == 2
    with Outbox(load_kiosk_config(config).store.path) as outbox:
        dossiers = [json.loads(b)["dossier"] for (b,) in
                    outbox.db.execute("SELECT body FROM ratings ORDER BY id")]
    assert "H-9" in dossiers


def test_kiosk_unit_plays_sound():
    unit = (Path(__file__).resolve().parent.parent / "systemd" / "hailong-kiosk.service")
    text = unit.read_text()
    assert "SDL_AUDIODRIVER=dummy" not in text and "SDL_AUDIODRIVER=alsa" in text
    groups = [line for line in text.splitlines() if line.startswith("SupplementaryGroups=")]
    assert "audio" in groups[0].split("=", 1)[1].split()
