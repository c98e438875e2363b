"""SIPAS on the commune server (issue 12): answers stored once in their own table,
suspect ratings' answers left out of the indices, the indices on the reports page
and /api/v1/sipas, and survey mode pushed to the kiosks with the roster."""

from __future__ import annotations

import json
import sqlite3

import msgspec
from click.testing import CliRunner
from dashboard_support import add_users, load, login, rating, store_ratings

from hailong import sipas
from hailong.cli import main
from server.fleet.roster import Roster
from server.ingest.store import connect
from server.web import create_app
from sync import contract


def with_survey(raw: bytes, levels: dict[str, int]) -> bytes:
    record = json.loads(raw)
    record["survey"] = [{"q": q, "factor": q, "level": lv, "scale": 4}
                        for q, lv in levels.items()]
    return json.dumps(record).encode()


def test_answers_stored_once_and_indices_on_the_page_and_api(tmp_path):
    config = load(tmp_path)
    add_users(config)
    raws = [with_survey(rating(4), {"access": 4, "official": 3}),
            with_survey(rating(2), {"access": 2, "official": 4, "result": 1}),
            with_survey(rating(4, suspect="burst"), {"access": 1})]  # not counted
    store_ratings(config, raws)
    store_ratings(config, raws)  # a re-send: nothing twice
    db = sqlite3.connect(config.store.path)
    assert db.execute("SELECT count(*) FROM survey_answers").fetchone()[0] == 6
    db.close()
    client = create_app(config).test_client()
    login(client, "leader")
    out = client.get("/api/v1/sipas?period=quarter").get_json()
    got = out["all"]
    assert got["factors"] == {"access": {"answers": 2, "satisfied": 1, "index": 50.0},
                              "official": {"answers": 2, "satisfied": 2, "index": 100.0},
                              "result": {"answers": 1, "satisfied": 0, "index": 0.0}}
    assert got["overall"] == 50.0 and got["pooled"] == 60.0
    page = client.get("/reports?period=quarter").get_data(as_text=True)
    assert 'id="sipas"' in page and "Tiếp cận dịch vụ" in page and "50" in page
    login(client, "technician")
    assert client.get("/api/v1/sipas").status_code == 403


def test_survey_mode_is_pushed_with_the_roster(tmp_path):
    config = load(tmp_path)
    db = connect(config.store)
    roster = Roster(db)
    plain = roster.kiosk_config("q1", 1, "http://x")
    assert b"survey" not in contract.encode(plain)  # off: kiosks of before still take it
    db.close()
    result = CliRunner().invoke(main, ["server", "roster", "set-survey", "--config",
                                       str(tmp_path / "server.toml"), "--on"])
    assert result.exit_code == 0, result.output
    db = connect(config.store)
    made = Roster(db).kiosk_config("q1", 2, "http://x")
    body = contract.encode(made)
    assert contract.decode_config(body).survey == sipas.default_survey()
    assert [q.factor for q in made.survey.questions] == list(contract.SIPAS_FACTORS)
    db.close()
    result = CliRunner().invoke(main, ["server", "roster", "set-survey", "--config",
                                       str(tmp_path / "server.toml"), "--off"])
    assert result.exit_code == 0 and "off" in result.output
    db = connect(config.store)
    assert Roster(db).kiosk_config("q1", 3, "http://x").survey is msgspec.UNSET
    db.close()
    bad = CliRunner().invoke(main, ["server", "roster", "set-survey", "--config",
                                    str(tmp_path / "server.toml"), "--on", "--question",
                                    "Bad Code=access=x"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output and "--question" in bad.output


def test_own_questions_and_level_words(tmp_path):
    config = load(tmp_path)
    conf = str(tmp_path / "server.toml")
    result = CliRunner().invoke(main, [
        "server", "roster", "set-survey", "--config", conf, "--on", "--scale", "3",
        "--question", "cb=official=Công chức có tận tình không?|Was the official helpful?",
        "--level", "Tốt|Good", "--level", "Được|Fair", "--level", "Chưa tốt|Poor"])
    assert result.exit_code == 0, result.output
    db = connect(config.store)
    survey = contract.decode_config(contract.encode(
        Roster(db).kiosk_config("q1", 1, "http://x"))).survey
    db.close()
    assert [(q.code, q.factor) for q in survey.questions] == [("cb", "official")]
    assert [lv.vi for lv in survey.levels] == ["Tốt", "Được", "Chưa tốt"]
    wrong = CliRunner().invoke(main, ["server", "roster", "set-survey", "--config", conf,
                                      "--on", "--level", "Tốt|Good"])
    assert wrong.exit_code == 1 and "--level given 1 times for 4 levels" in wrong.output


def test_the_sql_rule_for_satisfied_is_the_domains():
    from server.ingest.sipas import SATISFIED_SQL
    db = sqlite3.connect(":memory:")
    for scale in (3, 4, 5):
        for level in range(1, scale + 1):
            got = db.execute(f"SELECT {SATISFIED_SQL} FROM (SELECT ? AS level, ? AS scale) a",
                             [level, scale]).fetchone()[0]
            assert bool(got) == sipas.is_satisfied(level, scale), (level, scale)
