"""The roster the kiosks show: officials (with photos), counters, who is on duty, the
rating scale and the reasons; turned into one ``KioskConfig`` per enrolled kiosk.

Edited with ``hailong server roster ...`` (and by the dashboard, which may write
these tables directly). The running server (:mod:`server.fleet.pusher`) notices a change,
gives each affected kiosk a new, higher ``revision`` and publishes it retained, so a
kiosk that is offline gets it when it comes back.

Tables in the server store (migrations ``hailong-server-roster``):

``officials``
    ``id`` (text pk, as in ratings.official), ``name``, ``title`` (e.g. "Công chức Tư
    pháp - Hộ tịch"), ``photo`` (a file name in ``[fleet] photos_dir`` or an http(s)
    URL; null: none), ``active`` (1/0; 0 = left, kept for old ratings),
    ``updated_at``.
``counters``
    ``id`` (text pk, as in ratings.counter), ``name`` (e.g. "Quầy 1 - Tư pháp"),
    ``on_duty`` (official id or null), ``officials`` (JSON list of official ids
    serving here; empty list = every active official), ``scale`` (3-5, null = the
    commune's), ``mode`` ("always" / "transaction", null = the commune's).
``roster_settings``
    ``key`` (text pk), ``value`` (JSON): ``scale``, ``mode``, ``low_reasons``,
    ``high_reasons`` (lists of {code, vi, en}); commune-wide defaults.
``config_pushes``
    ``kiosk``, ``revision`` (pk together), ``body`` (the KioskConfig JSON),
    ``made_at``, ``published_at`` (null until the broker acknowledged it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from pathlib import Path

import msgspec
import sqlite_utils
from sqlite_utils import Migrations

from hailong.database import immediate
from hailong.errors import HailongError
from sync import contract

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-roster")

PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
MAX_PHOTO_BYTES = 2 * 2**20


@migrations()
def m001_roster(db: sqlite_utils.Database) -> None:
    db["officials"].create({"id": str, "name": str, "title": str, "photo": str,
                            "active": int, "updated_at": float},
                           pk="id", not_null={"name"}, defaults={"active": 1})
    db["counters"].create({"id": str, "name": str, "on_duty": str, "officials": str,
                           "scale": int, "mode": str},
                          pk="id", defaults={"name": "", "officials": "[]"})
    db["roster_settings"].create({"key": str, "value": str}, pk="key")
    db["config_pushes"].create({"kiosk": str, "revision": int, "body": str,
                                "made_at": float, "published_at": float},
                               pk=("kiosk", "revision"), not_null={"body", "made_at"})


class RosterError(HailongError, ValueError):
    """A roster edit that cannot be done (unknown official, bad photo, ...)."""


def _id(what: str, value: str) -> str:
    if not contract.valid_id(value):
        raise RosterError(f"{what} id {value!r} must be lower-case letters, digits, '-' or '_'")
    return value


class Roster:
    def __init__(self, db: sqlite_utils.Database, *, contact_retention_days: float | None = None):
        self.db = db
        # told to kiosks so the consent sentence promises what the server really does
        self.contact_retention_days = (math.ceil(contact_retention_days)
                                       if contact_retention_days else None)
        self._refused: dict[str, str] = {}  # kiosk -> why its new config was held back

    # --- edits ----------------------------------------------------------------------

    def ensure_counter(self, counter: str, name: str | None = None) -> None:
        _id("counter", counter)
        with immediate(self.db):
            self.db.execute("INSERT INTO counters (id, name) VALUES (?, ?) "
                            "ON CONFLICT(id) DO NOTHING", [counter, name or ""])
            if name is not None:
                self.db.execute("UPDATE counters SET name = ? WHERE id = ?", [name, counter])

    def set_counter(self, counter: str, *, name: str | None = None,
                    officials: list[str] | None = None, scale: int | None = None,
                    mode: str | None = None) -> None:
        self.ensure_counter(counter, name)
        with immediate(self.db):
            if officials is not None:
                for o in officials:
                    self._need_official(o)
                self.db.execute("UPDATE counters SET officials = ? WHERE id = ?",
                                [json.dumps(officials), counter])
            if scale is not None:
                self.db.execute("UPDATE counters SET scale = ? WHERE id = ?", [scale, counter])
            if mode is not None:
                self.db.execute("UPDATE counters SET mode = ? WHERE id = ?", [mode, counter])

    def add_official(self, official: str, name: str, *, title: str | None = None,
                     photo: str | None = None, photos_dir: Path | None = None) -> None:
        """Add or update an official. ``photo`` is an http(s) URL or a local JPEG/PNG
        file, copied into ``photos_dir`` under a name that changes with its content
        (so kiosks fetch a changed photo again)."""
        _id("official", official)
        try:  # the contract's limits, so the kiosk never refuses what is said here
            msgspec.convert({"id": official, "name": name, "title": title}, contract.Official)
        except msgspec.ValidationError as e:
            raise RosterError(f"official {official!r}: {e}") from None
        if photo and not photo.startswith(("http://", "https://")):
            photo = self._import_photo(official, Path(photo), photos_dir)
        with immediate(self.db):
            self.db.execute(
                "INSERT INTO officials (id, name, title, photo, active, updated_at) "
                "VALUES (?,?,?,?,1,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                "title=coalesce(excluded.title, officials.title), "
                "photo=coalesce(excluded.photo, officials.photo), active=1, "
                "updated_at=excluded.updated_at",
                [official, name, title, photo, time.time()])

    def _import_photo(self, official: str, source: Path, photos_dir: Path | None) -> str:
        if photos_dir is None:
            raise RosterError("no photos folder configured ([fleet] photos_dir)")
        suffix = source.suffix.lower()
        if suffix not in PHOTO_TYPES:
            raise RosterError(f"{source}: a photo must be .jpg or .png")
        try:
            data = source.read_bytes()
        except OSError as e:
            raise RosterError(f"{source}: cannot read: {e.strerror}") from None
        if len(data) > MAX_PHOTO_BYTES:
            raise RosterError(f"{source}: {len(data) // 1024} KiB; keep photos under "
                              f"{MAX_PHOTO_BYTES // 2**20} MiB (a kiosk shows them small)")
        name = f"{official}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
        photos_dir.mkdir(parents=True, exist_ok=True)
        tmp = photos_dir / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(photos_dir / name)
        return name

    def remove_official(self, official: str) -> None:
        """Retire an official (kept for their old ratings; no longer shown)."""
        self._need_official(official)
        with immediate(self.db):
            self.db.execute("UPDATE officials SET active = 0, updated_at = ? WHERE id = ?",
                            [time.time(), official])
            self.db.execute("UPDATE counters SET on_duty = NULL WHERE on_duty = ?", [official])

    def set_on_duty(self, counter: str, official: str | None) -> None:
        self.ensure_counter(counter)
        if official:
            self._need_official(official)
        with immediate(self.db):
            self.db.execute("UPDATE counters SET on_duty = ? WHERE id = ?", [official, counter])

    def set_setting(self, key: str, value) -> None:
        if key not in ("scale", "mode", "low_reasons", "high_reasons", "survey"):
            raise RosterError(f"unknown roster setting {key!r}")
        with immediate(self.db):
            self.db.execute("INSERT INTO roster_settings (key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            [key, json.dumps(value, ensure_ascii=False)])

    def set_survey(self, survey: contract.Survey | None) -> None:
        """Turn SIPAS survey mode on (with these questions and levels) or off (None);
        pushed to every kiosk with the roster."""
        self.set_setting("survey", msgspec.to_builtins(survey) if survey else None)

    def _need_official(self, official: str) -> None:
        row = self.db.execute("SELECT active FROM officials WHERE id = ?", [official]).fetchone()
        if not row or not row[0]:
            raise RosterError(f"no active official {official!r} (add it with "
                              "`hailong server roster add-official`)")

    # --- what each kiosk gets -------------------------------------------------------

    def settings(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute(
            "SELECT key, value FROM roster_settings")}

    def kiosk_config(self, counter: str, revision: int, photo_base_url: str
                     ) -> contract.KioskConfig:
        settings = self.settings()
        row = self.db.execute("SELECT name, on_duty, officials, scale, mode FROM counters "
                              "WHERE id = ?", [counter]).fetchone()
        name, on_duty, serving, scale, mode = row or ("", None, "[]", None, None)
        serving = json.loads(serving or "[]")
        officials = []
        # sorted in Python, by code point: PostgreSQL orders text by its locale
        for oid, oname, title, photo in sorted(self.db.execute(
                "SELECT id, name, title, photo FROM officials WHERE active = 1").fetchall()):
            if serving and oid not in serving and oid != on_duty:
                continue
            if photo and not photo.startswith(("http://", "https://")):
                photo = photo_base_url.rstrip("/") + "/" + photo
            officials.append(contract.Official(id=oid, name=oname, title=title or None,
                                               photo=photo or None))
        reasons = {k: [contract.ReasonLabel(**r) for r in settings[k]]
                   for k in ("low_reasons", "high_reasons") if settings.get(k)}
        if settings.get("survey"):  # SIPAS survey mode (issue 12); absent when off
            reasons["survey"] = msgspec.convert(settings["survey"], contract.Survey)
        return contract.KioskConfig(
            v=1, revision=revision, counter_name=name or "", officials=officials[:200],
            on_duty=on_duty, scale=scale or settings.get("scale", 4),
            mode=mode or settings.get("mode", "always"),
            contact_retention_days=self.contact_retention_days, **reasons)

    def refresh(self, kiosks: list[dict], photo_base_url: str) -> list[tuple[str, int]]:
        """Make a new revision for every kiosk whose config changed; returns them.
        Revisions start from the clock (so a restored server still goes upwards) and
        always grow by at least one."""
        made: list[tuple[str, int]] = []
        # look without a transaction (every push_interval; nearly always no change),
        # then write under the lock only for what changed
        if not [k for k in kiosks if self._changed(k, photo_base_url)]:
            return made
        with immediate(self.db):
            for k in kiosks:
                last = self._last(k["id"])
                probe = self._with_pin(k["id"], self.kiosk_config(k["counter"], 1,
                                                                   photo_base_url))
                if last and _same_but_revision(last[1], probe):
                    continue
                try:  # exactly the check the kiosk makes: never push what it would refuse
                    contract.decode_config(contract.encode(probe))
                except contract.ContractError as e:
                    if self._refused.get(k["id"]) != str(e):  # once, not every interval
                        log.error("config for kiosk %s not pushed, the kiosk would refuse "
                                  "it: %s", k["id"], e)
                    self._refused[k["id"]] = str(e)
                    continue
                self._refused.pop(k["id"], None)
                revision = max((last[0] + 1) if last else 1, int(time.time()))
                body = contract.encode(msgspec.structs.replace(probe, revision=revision))
                self.db.execute("INSERT INTO config_pushes (kiosk, revision, body, made_at) "
                                "VALUES (?,?,?,?)", [k["id"], revision, body.decode(),
                                                     time.time()])
                made.append((k["id"], revision))
        return made

    def _last(self, kiosk: str) -> tuple[int, str] | None:
        return self.db.execute("SELECT revision, body FROM config_pushes WHERE kiosk = ? "
                               "ORDER BY revision DESC LIMIT 1", [kiosk]).fetchone()

    def _changed(self, kiosk: dict, photo_base_url: str) -> bool:
        last = self._last(kiosk["id"])
        return not (last and _same_but_revision(
            last[1], self._with_pin(kiosk["id"],
                                    self.kiosk_config(kiosk["counter"], 1, photo_base_url))))

    def _with_pin(self, kiosk: str, config: contract.KioskConfig) -> contract.KioskConfig:
        """The kiosk's own technician PIN hash (``server set-pin``), per kiosk."""
        row = self.db.execute("SELECT value FROM fleet_meta WHERE key = ?",
                              [f"tech_pin:{kiosk}"]).fetchone()
        return msgspec.structs.replace(config, tech_pin_hash=row[0]) if row else config

    def latest(self, kiosks: list[str] | None = None, *, unpublished: bool = False
               ) -> list[tuple[str, int, bytes]]:
        """(kiosk, revision, body) of each kiosk's newest config."""
        rows = self.db.execute(
            "SELECT kiosk, revision, body, published_at FROM config_pushes p WHERE revision = "
            "(SELECT max(revision) FROM config_pushes q WHERE q.kiosk = p.kiosk)").fetchall()
        rows.sort()  # by kiosk id, code point order on either engine
        return [(k, r, b.encode()) for k, r, b, published in rows
                if (kiosks is None or k in kiosks) and not (unpublished and published)]

    def mark_published(self, kiosk: str, revision: int) -> None:
        with immediate(self.db):
            self.db.execute("UPDATE config_pushes SET published_at = ? WHERE kiosk = ? AND "
                            "revision = ?", [time.time(), kiosk, revision])
            self.db.execute("DELETE FROM config_pushes WHERE kiosk = ? AND revision < ? AND "
                            "revision NOT IN (SELECT revision FROM config_pushes WHERE "
                            "kiosk = ? ORDER BY revision DESC LIMIT 20)",
                            [kiosk, revision, kiosk])

    def kiosks_with_configs(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT kiosk FROM config_pushes")}

    def forget(self, kiosk: str) -> None:
        """Drop a removed kiosk's config history (its retained config was cleared)."""
        with immediate(self.db):
            self.db.execute("DELETE FROM config_pushes WHERE kiosk = ?", [kiosk])

    def officials(self) -> list[dict]:
        return sorted(self.db.query("SELECT * FROM officials"), key=lambda r: r["id"])

    def counters(self) -> list[dict]:
        return sorted(self.db.query("SELECT * FROM counters"), key=lambda r: r["id"])


def _same_but_revision(body: str, config: contract.KioskConfig) -> bool:
    old = msgspec.json.decode(body, type=contract.KioskConfig)
    return msgspec.structs.replace(old, revision=1) == config


def photo_base_url(config) -> str:
    fleet, web = config.fleet, config.web
    return fleet.photo_base_url or f"http://{web.host}:{web.port}/photos/"


def photo_file(photos_dir: Path, name: str) -> Path | None:
    """The photo file the dashboard should serve at ``/photos/<name>`` (without a
    login: kiosks fetch them), or None for anything that is not a roster photo."""
    if "/" in name or name.startswith(".") or Path(name).suffix.lower() not in PHOTO_TYPES:
        return None
    path = Path(photos_dir) / name
    return path if path.is_file() else None
