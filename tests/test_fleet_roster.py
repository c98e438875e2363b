"""The roster on the server: what each kiosk's config holds, revisions that only grow
and only when something changed, and one-line errors for what a user gets wrong."""

from __future__ import annotations

import json

import pytest

from helpers import both_stores, hailong
from server.fleet.kiosks import Fleet
from server.fleet.roster import Roster, RosterError
from server.ingest.store import connect
from sync import contract

BASE = "http://server.local:8080/photos/"


@both_stores
def test_configs_follow_the_roster_and_revisions_only_grow(tmp_path, server_store):
    db = connect(server_store)
    fleet, roster = Fleet(db, "xa"), Roster(db)
    fleet.enrol("k01", "q1")
    fleet.enrol("k02", "q2")
    (tmp_path / "an.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    roster.add_official("cb-an", "An", photo=str(tmp_path / "an.jpg"),
                        photos_dir=tmp_path / "photos")
    roster.add_official("cb-binh", "Bình", photo="https://example.org/b.png")
    roster.set_counter("q1", name="Quầy 1", officials=["cb-an"])
    roster.set_on_duty("q1", "cb-an")

    first = dict(roster.refresh(fleet.active(), BASE))
    assert set(first) == {"k01", "k02"}
    assert roster.refresh(fleet.active(), BASE) == []       # nothing changed, no revision
    configs = {k: contract.decode_config(body) for k, _, body in roster.latest()}
    k01, k02 = configs["k01"], configs["k02"]
    assert [o.id for o in k01.officials] == ["cb-an"] and k01.on_duty == "cb-an"
    assert k01.officials[0].photo.startswith(BASE + "cb-an-")
    assert (tmp_path / "photos" / k01.officials[0].photo[len(BASE):]).exists()
    assert [o.id for o in k02.officials] == ["cb-an", "cb-binh"]  # no list: everyone
    assert k02.officials[1].photo == "https://example.org/b.png"

    roster.set_on_duty("q2", "cb-binh")                      # only k02's config changes
    second = dict(roster.refresh(fleet.active(), BASE))
    assert list(second) == ["k02"] and second["k02"] > first["k02"]
    roster.remove_official("cb-binh")                        # retired: gone, off duty
    third = dict(roster.refresh(fleet.active(), BASE))
    k02 = {k: contract.decode_config(b) for k, _, b in roster.latest()}["k02"]
    assert third["k02"] > second["k02"] and k02.on_duty is None
    assert [o.id for o in k02.officials] == ["cb-an"]
    assert roster.latest(unpublished=True)                   # nothing published yet
    for kiosk, revision, _ in roster.latest():
        roster.mark_published(kiosk, revision)
    assert roster.latest(unpublished=True) == []
    db.close()

    # a store restored from scratch still counts upwards: revisions start from the clock
    fresh = connect(tmp_path / "fresh.db")
    Fleet(fresh, "xa").enrol("k01", "q1")
    again = dict(Roster(fresh).refresh(Fleet(fresh, "xa").active(), BASE))
    assert again["k01"] >= first["k01"]
    fresh.close()


@both_stores
def test_a_config_the_kiosk_would_refuse_is_never_pushed(tmp_path, server_store):
    db = connect(server_store)
    fleet, roster = Fleet(db, "xa"), Roster(db)
    fleet.enrol("k01", "q1")
    with pytest.raises(RosterError, match="length <= 200"):
        roster.add_official("cb-an", "A" * 300)   # over the contract's 200 characters
    # written behind the library's back (the dashboard may write the table directly)
    with db.conn:
        db.execute("INSERT INTO officials (id, name, active) VALUES ('cb-an', ?, 1)",
                   ["A" * 300])
    assert roster.refresh(fleet.active(), BASE) == []
    roster.add_official("cb-an", "An")
    assert [k for k, _ in roster.refresh(fleet.active(), BASE)] == ["k01"]
    db.close()


def test_user_mistakes_are_one_clear_line(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text('[server]\ncommune = "xa"\n[store]\npath = "server.db"\n'
                    '[broker]\nusername = "hailong.server"\npassword_file = "missing"\n')
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 2**20))

    def fails(*args: str) -> str:
        r = hailong(*args, "--config", str(conf), check=False)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        return r.stderr.strip().splitlines()[-1]

    assert "no active official 'nobody'" in fails("server", "roster", "set-on-duty",
                                                  "--counter", "q1", "--official", "nobody")
    assert "under 2 MiB" in fails("server", "roster", "add-official", "--id", "cb-a",
                                  "--name", "A", "--photo", str(tmp_path / "big.png"))
    assert ".jpg or .png" in fails("server", "roster", "add-official", "--id", "cb-a",
                                   "--name", "A", "--photo", str(conf))
    assert "must be lower-case" in fails("server", "roster", "add-official", "--id", "Cb A",
                                         "--name", "A")
    assert "code=Vietnamese label" in fails("server", "roster", "set-reasons", "--kind", "low",
                                            "--reason", "no-equals-sign")
    assert "Expected `str` matching regex" in fails("server", "roster", "set-reasons", "--kind",
                                                    "low", "--reason", "Chờ Lâu=Chờ đợi lâu")
    assert "not enrolled" in fails("server", "remove-kiosk", "--kiosk", "k99")
    assert "must be lower-case" in fails("server", "add-kiosk", "--kiosk", "K 1", "--counter",
                                         "q1", "--out", str(tmp_path / "b"))
    assert "--broker-host" in fails("server", "add-kiosk", "--kiosk", "k1", "--counter", "q1",
                                    "--for-pi", "--out", str(tmp_path / "b"))
    # the roster commands work without the broker password (an admin may not read it)
    out = hailong("server", "roster", "show", "--config", str(conf), "--json").stdout
    assert json.loads(out)["officials"] == []
