"""SIPAS survey answers end to end (issue 12): recorded on a kiosk through the
citizen's path (Recorder.press, then each answer as it is given), sent by the uplink
through a real mosquitto to the server, stored once, and the factor indices equal a
hand-computed answer on a fixed data set. Also: a re-send stores nothing twice, and a
server of the previous contract refuses a survey-bearing rating with a clear reason."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until
from helpers import hailong, kiosk_status, server_stats

from hailong import sipas
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import PressGuard, Recorder
from sync import contract

# The fixed data set: per citizen, the rating and the answers (None: skipped there).
#            access procedure official result feedback
CITIZENS = [
    (4, [4, 3, 4, 4, 3]),
    (3, [3, 2, 3, 4, None]),   # stopped before the last question
    (4, [2, 2, 4, 3, 1]),
    (2, [1, 1, 2, None, None]),
    (4, [4, 4, 4, 4, 4]),
    (3, [3, 3, 1, 2, 2]),
    (1, [None] * 5),           # skipped the whole survey
]
# By hand, satisfied = level 3 or 4 of 4 ("Hài lòng", "Rất hài lòng"):
#   access    4 3 2 1 4 3     -> 4 of 6 = 66.7
#   procedure 3 2 2 1 4 3     -> 3 of 6 = 50.0
#   official  4 3 4 2 4 1     -> 4 of 6 = 66.7
#   result    4 4 3 4 2       -> 4 of 5 = 80.0
#   feedback  3 1 4 2         -> 2 of 4 = 50.0
#   overall = (66.67 + 50 + 66.67 + 80 + 50) / 5 = 62.7; pooled 17 of 27 = 63.0
EXPECTED = {"access": (6, 4, 66.7), "procedure": (6, 3, 50.0), "official": (6, 4, 66.7),
            "result": (5, 4, 80.0), "feedback": (4, 2, 50.0)}


def record_survey(kiosk_conf: Path) -> list[str]:
    config = load_kiosk_config(kiosk_conf)
    codes = [q.code for q in sipas.DEFAULT_QUESTIONS]
    ids = []
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox, guard=PressGuard(min_interval=0, burst_count=100))
        for score, levels in CITIZENS:
            rating = recorder.press(score, sealed=False)
            given: list[contract.SurveyAnswer] = []
            for code, level in zip(codes, levels):
                if level is None:
                    break
                given.append(contract.SurveyAnswer(q=code, factor=code, level=level, scale=4))
                assert recorder.answer(rating.id, given)  # stored as it is given
            outbox.seal(rating.id)
            ids.append(rating.id)
    return ids


def sipas_json(server_conf: Path) -> dict:
    return json.loads(hailong("server", "sipas", "--config", str(server_conf), "--period",
                              "quarter", "--json").stdout)


def test_survey_answers_reach_the_server_and_the_indices_match_by_hand(site, procs):
    kiosk_conf = site.kiosk("k01")
    ids = record_survey(kiosk_conf)
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    procs(["sync", "run", "--config", str(kiosk_conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(kiosk_conf)["acked"] == len(CITIZENS), timeout=60,
               message="all acked")
    out = sipas_json(site.server_conf)
    mine = out["communes"][site.commune]
    assert {k: (f["answers"], f["satisfied"], f["index"])
            for k, f in mine["factors"].items()} == EXPECTED
    assert mine["overall"] == 62.7 and mine["pooled"] == 63.0 and mine["answers"] == 27

    # exactly once under a re-send: the kiosk sends every row again (as after a lost
    # ack); the server acks them as duplicates and stores no answer twice
    db = sqlite3.connect(site.folder / "server.db")
    before = db.execute("SELECT count(*) FROM survey_answers").fetchone()[0]
    assert before == 27
    with Outbox(load_kiosk_config(kiosk_conf).store.path) as outbox:
        with outbox.transaction():
            outbox.db.execute("UPDATE ratings SET state = 'pending', next_send_at = 0, "
                              "acked_at = NULL")
        attempts = dict(outbox.db.execute("SELECT id, attempts FROM ratings").fetchall())
    wait_until(lambda: kiosk_status(kiosk_conf)["acked"] == len(CITIZENS), timeout=60,
               message="re-sent and acked again")
    with Outbox(load_kiosk_config(kiosk_conf).store.path) as outbox:
        again = dict(outbox.db.execute("SELECT id, attempts FROM ratings").fetchall())
    assert all(again[i] > attempts[i] for i in ids)  # really sent again
    assert db.execute("SELECT count(*) FROM survey_answers").fetchone()[0] == 27
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == len(CITIZENS) == stats["distinct_ids"]
    assert sipas_json(site.server_conf)["communes"][site.commune] == mine
    db.close()


def _old_contract(tmp_path: Path):
    """sync/contract.py as it was before issue 12 (from git), loaded as a module."""
    root = Path(__file__).resolve().parent.parent
    try:
        text = subprocess.run(["git", "-C", str(root), "show", "2ff5a9c:sync/contract.py"],
                              capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("no git history to load the old contract from")
    path = tmp_path / "old_contract.py"
    path.write_text(text.replace("from . import timerules", "from sync import timerules"))
    spec = importlib.util.spec_from_file_location("old_contract", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_contract"] = module
    spec.loader.exec_module(module)
    return module


def test_an_old_server_refuses_a_survey_clearly_and_takes_plain_ratings(tmp_path):
    old = _old_contract(tmp_path)
    base = dict(id="0190a000-0000-7000-8000-000000000001", v=1, kiosk="k01", commune="xa",
                counter="1", score=4, scale=4, created_at=1.76e9, clock_synced=True,
                boot_id="0190a000-0000-7000-8000-000000000002", mono=5.0)
    plain = contract.encode(contract.Rating(**base))
    assert old.decode_rating(plain, "xa", "k01").score == 4  # unchanged for old servers
    with_survey = contract.encode(contract.Rating(**base, survey=[
        contract.SurveyAnswer(q="access", factor="access", level=4, scale=4)]))
    with pytest.raises(old.ContractError) as refused:
        old.decode_rating(with_survey, "xa", "k01")
    # the reason the ack carries and the kiosk keeps (outbox `rejected`, tech menu)
    assert refused.value.reason == "invalid"
    assert "unknown field `survey`" in refused.value.detail
    # and the new contract takes it
    assert contract.decode_rating(with_survey, "xa", "k01").survey[0].level == 4


def test_the_contract_refuses_bad_answers():
    base = dict(id="0190a000-0000-7000-8000-000000000001", v=1, kiosk="k01", commune="xa",
                counter="1", score=4, scale=4, created_at=1.76e9, clock_synced=True,
                boot_id="0190a000-0000-7000-8000-000000000002", mono=5.0)
    for survey in ([contract.SurveyAnswer(q="a", factor="access", level=5, scale=4)],
                   [contract.SurveyAnswer(q="a", factor="access", level=3, scale=4)] * 2):
        with pytest.raises(contract.ContractError):
            contract.decode_rating(contract.encode(contract.Rating(**base, survey=survey)),
                                   "xa", "k01")


def test_a_real_old_server_refuses_through_mosquitto_and_the_kiosk_keeps_the_reason(
        site, tmp_path):
    """The server of before issue 12 (its code from git) behind the real broker: the
    plain rating is stored and acked, the survey-bearing one is rejected; the kiosk marks
    it rejected (never re-sent blindly) and the old server's store names the field."""
    import os
    import signal

    from helpers import record

    old_tree = tmp_path / "old"
    old_tree.mkdir()
    root = Path(__file__).resolve().parent.parent
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", "2ff5a9c"],
                                 capture_output=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("no git history to run the old server from")
    subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
    kiosk_conf = site.kiosk("k01")
    [plain] = record(kiosk_conf, 1, seed=1)
    config = load_kiosk_config(kiosk_conf)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox, guard=PressGuard(min_interval=0))
        surveyed = recorder.press(4, sealed=False).id
        recorder.answer(surveyed, [contract.SurveyAnswer(q="access", factor="access",
                                                          level=4, scale=4)], seal=True)
    env = {**os.environ, "PYTHONPATH": str(old_tree)}
    log = open(tmp_path / "old-server.log", "ab")
    server = subprocess.Popen([sys.executable, "-m", "hailong", "server", "run", "--config",
                               str(site.server_conf)], cwd=old_tree, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    uplink = subprocess.Popen([sys.executable, "-m", "hailong", "sync", "run", "--config",
                               str(kiosk_conf)], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_until(lambda: kiosk_status(kiosk_conf)["pending"] == 0, timeout=60,
                   message="both answered by the old server")
        status = kiosk_status(kiosk_conf)
        assert status["acked"] == 1 and status["rejected"] == 1
        assert status["rejected_by_reason"] == {"invalid": 1}
        with Outbox(config.store.path) as outbox:
            assert outbox.get(surveyed)["state"] == "rejected"
            assert outbox.get(plain)["state"] == "acked"
        db = sqlite3.connect(site.folder / "server.db")
        detail = db.execute("SELECT reason, detail FROM rejections WHERE rating_id = ?",
                            [surveyed]).fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        db.close()
        assert "survey_answers" not in tables  # it really was the old server's code
        assert detail[0] == "invalid" and "unknown field `survey`" in detail[1]
    finally:
        for p in (uplink, server):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
