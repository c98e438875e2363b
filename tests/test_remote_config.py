"""Remote config end to end: the roster edited on the server reaches kiosks as a
retained config (also kiosks that were offline), a bad push is refused and the last
good config kept, photos are fetched over HTTP and served from the cache after."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from conftest import wait_until
from fleet_site import SERVER_USER, Client, FleetSite
from helpers import hailong
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.photos import PhotoCache
from kiosk.photos import photo_path
from sync import contract

# the smallest valid PNG (1x1), and a JPEG header good enough for the signature check
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


class PhotoServer:
    """http.server on 127.0.0.1 serving one folder, like the dashboard's /photos/."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        handler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def roster(site: FleetSite, *args: str) -> str:
    return hailong("server", "roster", args[0], "--config", str(site.server_conf),
                   *args[1:]).stdout


def outbox_config(kiosk_conf: Path) -> contract.KioskConfig | None:
    with Outbox(load_kiosk_config(kiosk_conf).store.path) as outbox:
        return outbox.config()


def published(site: FleetSite) -> bool:
    return not json.loads(roster(site, "push", "--json"))["unpublished"]


def test_roster_reaches_offline_kiosk_with_photos_cached(tmp_path, procs):
    photos = tmp_path / "photos"
    web = PhotoServer(photos)
    site = FleetSite(tmp_path, extra=f'photo_base_url = "{web.url}"\n'
                                     f'photos_dir = "{photos}"\n')
    with site:
        k01 = site.add_kiosk("k01", "q1")
        site.reload()
        (tmp_path / "an.png").write_bytes(PNG)
        (tmp_path / "binh.jpg").write_bytes(JPEG)
        roster(site, "add-official", "--id", "cb-an", "--name", "Nguyễn Văn An",
               "--title", "Công chức Tư pháp - Hộ tịch", "--photo", str(tmp_path / "an.png"),
               "--counter", "q1")
        roster(site, "add-official", "--id", "cb-binh", "--name", "Trần Thị Bình",
               "--photo", str(tmp_path / "binh.jpg"))
        roster(site, "set-counter", "--counter", "q1", "--name", "Quầy 1 - Tư pháp")
        roster(site, "set-scale", "5")
        roster(site, "set-reasons", "--kind", "low", "--reason", "cho-lau=Chờ đợi lâu|Long wait",
               "--reason", "khac=Khác|Other")
        server = procs(["server", "run", "--config", str(site.server_conf)],
                       tmp_path / "server.log")
        wait_until(lambda: published(site), message="config published")
        server.stop()

        # the kiosk has never been online: the retained config is waiting for it
        uplink = procs(["sync", "run", "--config", str(k01)], tmp_path / "sync-1.log")
        wait_until(lambda: outbox_config(k01), message="first config arrived")
        first = outbox_config(k01)
        assert first.scale == 5 and first.on_duty == "cb-an"
        assert first.counter_name == "Quầy 1 - Tư pháp"
        assert [r.code for r in first.low_reasons] == ["cho-lau", "khac"]
        assert {o.id for o in first.officials} == {"cb-an", "cb-binh"}
        assert all(o.photo.startswith(web.url) for o in first.officials)

        kiosk = load_kiosk_config(k01)
        wait_until(lambda: all(photo_path(kiosk, o) for o in first.officials),
                   message="photos cached")
        assert photo_path(kiosk, official(first, "cb-an")).read_bytes() == PNG
        assert photo_path(kiosk, official(first, "cb-an")).parent == \
            kiosk.store.path.parent / "photos"

        # the kiosk goes offline; the roster changes while it is away
        uplink.stop()
        procs(["server", "run", "--config", str(site.server_conf)], tmp_path / "s2.log")
        roster(site, "set-on-duty", "--counter", "q1", "--official", "cb-binh")
        wait_until(lambda: published(site), message="second config published")
        web.close()  # and the photo server is gone too

        assert outbox_config(k01) == first
        procs(["sync", "run", "--config", str(k01)], tmp_path / "sync-2.log")
        wait_until(lambda: outbox_config(k01).revision > first.revision,
                   message="the new revision reached the kiosk")
        second = outbox_config(k01)
        assert second.on_duty == "cb-binh"
        assert photo_path(kiosk, official(second, "cb-binh")).read_bytes() == JPEG  # cached


def official(config: contract.KioskConfig, official_id: str) -> contract.Official:
    return next(o for o in config.officials if o.id == official_id)


def test_bad_push_is_refused_and_last_good_config_kept(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        k01 = site.add_kiosk("k01")
        site.reload()
        admin = Client(site.port, SERVER_USER, site.server_password, client_id="admin")
        config_topic = contract.topic("xa-fleet", "k01", "config")
        good = contract.KioskConfig(v=1, revision=5, scale=3, officials=[
            contract.Official(id="cb-an", name="An")], on_duty="cb-an")
        admin.publish(config_topic, contract.encode(good), retain=True)
        uplink = procs(["sync", "run", "--config", str(k01)], tmp_path / "sync.log")
        wait_until(lambda: outbox_config(k01), message="good config arrived")

        bad = [b'{"v":1,"revision":"six"}', b"not json",
               b'{"v":1,"revision":7,"scale":9}',                   # out of range
               b'{"v":1,"revision":8,"officials":[{"id":"X Y","name":"?"}]}']
        for payload in bad:
            admin.publish(config_topic, payload, retain=True)
        older = contract.KioskConfig(v=1, revision=4, scale=4)  # valid, but older
        admin.publish(config_topic, contract.encode(older), retain=True)
        log = tmp_path / "sync.log"
        wait_until(lambda: log.read_text().count("config refused") >= len(bad),
                   message="bad pushes refused")
        assert outbox_config(k01) == good

        # across a restart the (bad, retained) message comes again: still refused
        admin.publish(config_topic, bad[0], retain=True)
        uplink.stop()
        procs(["sync", "run", "--config", str(k01)], tmp_path / "sync-2.log")
        wait_until(lambda: "config refused" in (tmp_path / "sync-2.log").read_text(),
                   message="refused again after restart")
        assert outbox_config(k01) == good
        with Outbox(load_kiosk_config(k01).store.path) as outbox:
            assert outbox.last_event()["kind"] == "message-refused"
        admin.close()


def test_photo_cache_refuses_non_images_and_keeps_working_offline(tmp_path):
    web = PhotoServer(tmp_path / "www")
    (tmp_path / "www" / "a.png").write_bytes(PNG)
    (tmp_path / "www" / "page.png").write_bytes(b"<html>login</html>")
    config = contract.KioskConfig(v=1, revision=1, officials=[
        contract.Official(id="a", name="A", photo=web.url + "a.png"),
        contract.Official(id="b", name="B", photo=web.url + "page.png"),
        contract.Official(id="c", name="C", photo=web.url + "missing.png"),
        contract.Official(id="d", name="D")])
    cache = PhotoCache(tmp_path / "cache")
    assert cache.fetch(config) == {"fetched": 1, "cached": 0, "failed": 2}
    a, b, c, d = config.officials
    assert cache.photo_path(a).read_bytes() == PNG
    assert cache.photo_path(b) is None and cache.photo_path(c) is None
    assert cache.photo_path(d) is None
    web.close()
    assert cache.fetch(config) == {"fetched": 0, "cached": 1, "failed": 2}
    assert cache.photo_path(a).read_bytes() == PNG   # server gone: the cache answers
    # a config without the official tidies their photo away (only when complete)
    assert cache.fetch(contract.KioskConfig(v=1, revision=2)) == \
        {"fetched": 0, "cached": 0, "failed": 0}
    assert cache.photo_path(a) is None


@pytest.mark.parametrize("bad", ["../etc/passwd", ".hidden.png", "a.txt"])
def test_photo_file_serves_only_roster_photos(tmp_path, bad):
    from server.fleet.roster import photo_file
    (tmp_path / "ok.png").write_bytes(PNG)
    assert photo_file(tmp_path, "ok.png") == tmp_path / "ok.png"
    assert photo_file(tmp_path, bad) is None


def test_retained_config_survives_a_broker_restart(tmp_path, procs):
    """Persistence is on in the generated config: a config pushed before the broker
    restarted still reaches a kiosk that comes online afterwards (server not running)."""
    with FleetSite(tmp_path) as site:
        k01 = site.add_kiosk("k01")
        site.reload()
        admin = Client(site.port, SERVER_USER, site.server_password, client_id="admin")
        config = contract.KioskConfig(v=1, revision=42, counter_name="Quầy 1")
        admin.publish(contract.topic("xa-fleet", "k01", "config"), contract.encode(config),
                      retain=True)
        admin.close()
        site.broker.restart()   # SIGTERM: mosquitto saves its database on the way out
        assert list((site.broker_dir / "data").glob("mosquitto.db"))
        procs(["sync", "run", "--config", str(k01)], tmp_path / "sync.log")
        wait_until(lambda: outbox_config(k01), message="config after the broker restart")
        assert outbox_config(k01) == config


def test_a_removed_kiosks_retained_config_is_cleared(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        site.add_kiosk("k01")
        site.reload()
        server = procs(["server", "run", "--config", str(site.server_conf)],
                       tmp_path / "server.log")
        wait_until(lambda: published(site) and json.loads(roster(site, "show", "--json"))[
            "configs"], message="k01's config published")
        hailong("server", "remove-kiosk", "--config", str(site.server_conf), "--kiosk", "k01")
        site.reload()
        wait_until(lambda: "cleared the retained config of removed kiosk k01"
                   in (tmp_path / "server.log").read_text(), message="cleared")
        server.stop()
        # enrolled again later (new password): nothing old is waiting for it
        again = load_kiosk_config(site.add_kiosk("k01"))
        site.reload()
        probe = Client(site.port, "k01", again.broker.password, client_id="k01")
        probe.subscribe(contract.topic("xa-fleet", "k01", "config"))
        time.sleep(1.0)  # a retained message comes right after SUBACK; give it a moment
        assert probe.messages == []
        probe.close()
