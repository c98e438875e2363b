"""SIPAS survey mode on the kiosk (issue 12), through `hailong kiosk replay`: the real
app, a simulated clock, MockFactory buttons, a real outbox. After the rating (and the
reasons, when asked) the citizen answers one question per screen; each answer is
stored as it is given; "Bỏ qua" and the timeout end the survey keeping what was said."""

from __future__ import annotations

import pytest
from kiosk_ui_support import write_config

from hailong import sipas
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.replay import replay
from sync import contract

SIZE = (800, 480)
CODES = [q.code for q in sipas.DEFAULT_QUESTIONS]


def run(tmp_path, script: str, *, survey: bool = True, extra: str = "") -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = load_kiosk_config(write_config(tmp_path, extra))
    with Outbox(config.store.path) as outbox:  # what the uplink stores from the server
        outbox.save_config(contract.KioskConfig(
            v=1, revision=1, **({"survey": sipas.default_survey()} if survey else {})))
    return replay(config, script, SIZE)


def test_a_citizen_answers_every_question_by_touch(tmp_path):
    script = ["at 1 tap 400,250", "at 4 tap @face:4"]
    levels = [4, 3, 4, 2, 1]
    for i, level in enumerate(levels):
        script.append(f"at {7 + 3 * i} tap @answer:{level}")
    result = run(tmp_path, "\n".join(script))
    [rating] = result["ratings"]
    assert rating["score"] == 4 and rating["sealed"]
    assert rating["survey"] == dict(zip(CODES, levels))
    assert result["screen"] == "idle"


@pytest.mark.parametrize("answered", range(6))
def test_skip_at_any_point_keeps_what_was_answered(tmp_path, answered):
    script = ["at 1 tap 400,250", "at 4 tap @face:3"]
    t = 7
    for _ in range(answered):
        script.append(f"at {t} tap @answer:3")
        t += 3
    if answered < 5:
        script.append(f"at {t} tap @skip")
    result = run(tmp_path, "\n".join(script))
    [rating] = result["ratings"]
    assert rating["sealed"]
    assert rating["survey"] == {c: 3 for c in CODES[:answered]}
    assert "survey" not in [i.get("why") for i in result["ignored"]]


def test_buttons_only(tmp_path):
    """A kiosk with buttons and no touch: the buttons rate, then answer (button N =
    level N, as on the rating), and the next citizen's press rates again."""
    script = ["at 1 button 4"] + [f"at {4 + 3 * i} button {lv}"
                                   for i, lv in enumerate([4, 4, 3, 1, 2])]
    script += ["at 100 button 3", "at 103 button 4"]  # the next citizen leaves after one
    result = run(tmp_path, "\n".join(script))
    first, second = result["ratings"]
    assert first["score"] == 4 and first["survey"] == dict(zip(CODES, [4, 4, 3, 1, 2]))
    assert second["score"] == 3 and second["survey"] == {"access": 4}
    assert all(r["sealed"] for r in result["ratings"])
    assert [r["suspect"] for r in result["ratings"]] == [None, None]


def test_timeout_returns_to_idle_and_seals_what_was_entered(tmp_path):
    script = "at 1 tap 400,250\nat 4 tap @face:4\nat 7 tap @answer:4\nat 10 tap @answer:2"
    result = run(tmp_path, script)
    [rating] = result["ratings"]
    assert rating["sealed"] and rating["survey"] == {"access": 4, "procedure": 2}
    assert result["screen"] == "idle"


def test_after_a_low_rating_the_reasons_come_first(tmp_path):
    script = "\n".join(["at 1 tap 400,250", "at 4 tap @face:1", "at 7 tap @reason:1",
                        "at 10 tap @done", "at 13 key 0", "at 13.5 key 9", "at 13.6 key 1",
                        "at 13.7 key 2", "at 13.8 key 3", "at 13.9 key 4", "at 14 key 5",
                        "at 14.1 key 6", "at 14.2 key 7", "at 14.3 key 8",
                        "at 16 key return", "at 19 tap @answer:1", "at 22 tap @skip"])
    result = run(tmp_path, script)
    [rating] = result["ratings"]
    assert rating["score"] == 1 and rating["reasons"] == ["long-wait"]
    assert rating["contact"]
    assert rating["survey"] == {"access": 1} and rating["sealed"]


def test_after_reasons_without_phone(tmp_path):
    script = "\n".join(["at 1 tap 400,250", "at 4 tap @face:1", "at 7 tap @skip",
                        "at 10 tap @answer:2", "at 13 tap @answer:2", "at 16 tap @skip"])
    result = run(tmp_path, script, extra="[flow]\nask_phone = false\n")
    [rating] = result["ratings"]
    assert rating["reasons"] == [] and rating["survey"] == {"access": 2, "procedure": 2}


def test_survey_off_the_flow_is_unchanged(tmp_path):
    result = run(tmp_path, "at 1 tap 400,250\nat 4 tap @face:4", survey=False)
    [rating] = result["ratings"]
    assert rating["survey"] == {} and rating["sealed"]
    assert "survey" not in result["sounds"]


def test_a_rating_without_answers_encodes_as_before(tmp_path):
    """No survey field at all (not even empty): an old server still takes it."""
    result = run(tmp_path, "at 1 tap 400,250\nat 4 tap @face:4\nat 7 tap @skip")
    assert result["ratings"][0]["survey"] == {}
    body = contract.encode(contract.Rating(
        id="0190a000-0000-7000-8000-000000000000", v=1, kiosk="k", commune="c", counter="1",
        score=4, scale=4, created_at=1.7e9, clock_synced=True,
        boot_id="0190a000-0000-7000-8000-000000000000", mono=1.0))
    assert b"survey" not in body


def test_own_levels_and_words_on_screen(tmp_path):
    """A 3-level survey with its own words, on a 4-level rating kiosk: the faces and the
    buttons follow the survey's scale, not the rating's."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = load_kiosk_config(write_config(tmp_path))
    survey = contract.Survey(
        questions=[contract.SurveyQuestion(code="cb", factor="official", vi="Công chức?")],
        scale=3, levels=[contract.LevelLabel(vi=w) for w in ("Tốt", "Được", "Chưa tốt")])
    with Outbox(config.store.path) as outbox:
        outbox.save_config(contract.KioskConfig(v=1, revision=1, survey=survey))
    result = replay(config, "at 1 button 4\nat 4 button 3", SIZE)
    [rating] = result["ratings"]
    assert rating["score"] == 4 and rating["survey"] == {"cb": 3} and rating["sealed"]
