"""``hailong kiosk doctor``: what a technician in the field needs to know, each check one line.

Display driver, touch device, GPIO pin factory, the font and its Vietnamese
coverage, clock synchronisation, disk space, the outbox, the broker and sound. Each
check says ``ok``, ``warn`` (works, but look at it) or ``fail`` (the kiosk will not
work as configured); the command exits 1 if any check fails.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str
    detail: str


def check_display(config) -> Check:
    import pygame

    from kiosk.ui.display import BLIND_DRIVERS, wants_fullscreen
    fullscreen = wants_fullscreen(config.display.mode, headless=False)
    try:
        pygame.display.init()
    except pygame.error as e:
        return Check("display", FAIL, f"no video driver works: {e}")
    driver = pygame.display.get_driver()
    sizes = pygame.display.get_desktop_sizes() if hasattr(pygame.display,
                                                          "get_desktop_sizes") else []
    shown = ", ".join(f"{w}x{h}" for w, h in sizes) or "unknown size"
    if driver in BLIND_DRIVERS:
        status = FAIL if fullscreen else WARN
        return Check("display", status, f"SDL driver '{driver}' shows nothing "
                     f"({'full screen would be refused' if fullscreen else 'only --headless'}); "
                     "on a Pi: SDL_VIDEODRIVER=kmsdrm and the 'video'/'render' groups")
    return Check("display", OK, f"SDL driver '{driver}', screen {shown}"
                 f"{', full screen' if fullscreen else ', window'}")


def check_touch(config) -> Check:
    names = []
    try:
        text = Path("/proc/bus/input/devices").read_text(errors="replace")
        names = [line.split("=", 1)[1].strip('"') for line in text.splitlines()
                 if line.startswith("N: Name=") and "touch" in line.lower()]
    except OSError:
        pass
    try:
        from pygame._sdl2 import touch
        sdl_count = touch.get_num_devices()
    except Exception:
        sdl_count = 0
    if names or sdl_count:
        return Check("touch", OK, f"{', '.join(names) or 'touch device'} "
                     f"(SDL sees {sdl_count})")
    status = OK if config.gpio.buttons else WARN
    return Check("touch", status, "no touchscreen found" + (
        "; buttons are configured" if config.gpio.buttons else "; mouse and keys only"))


def check_gpio(config) -> Check:
    from kiosk.inputs import GpioError, make_pin_factory
    if not config.gpio.buttons:
        return Check("gpio", OK, "no buttons configured (touch only)")
    try:
        factory = make_pin_factory(config.gpio.pin_factory)
    except GpioError as e:
        return Check("gpio", FAIL, str(e))
    name = type(factory).__name__
    try:
        factory.close()
    except Exception:
        pass
    status = WARN if name == "MockFactory" else OK
    return Check("gpio", status, f"pin factory {name}; buttons on BCM "
                 f"{list(config.gpio.buttons)}, lights {list(config.gpio.leds)}, "
                 f"buzzer {config.gpio.buzzer or 'none'}")


def check_font(config) -> Check:
    from hailong import domain

    from kiosk.ui.fonts import FontError, Fonts, find_font
    from kiosk.ui.i18n import LANGUAGES, MSGIDS, translator
    try:
        fonts = Fonts(*find_font(config.display.font or None))
    except FontError as e:
        return Check("font", FAIL, str(e))
    texts = [translator(lang)(m) for lang in LANGUAGES for m in MSGIDS]
    texts += [s for lvs in domain.LEVELS.values() for lv in lvs for s in (lv.vi, lv.en)]
    texts += [s for r in domain.LOW_REASONS + domain.HIGH_REASONS for s in (r.vi, r.en)]
    missing = fonts.missing(texts)
    if missing:
        return Check("font", FAIL, f"{fonts.regular} lacks glyphs for {len(missing)} strings, "
                     f"e.g. {next(iter(missing.values()))!r}")
    return Check("font", OK, f"{fonts.regular} (bold {fonts.bold.name}) covers all "
                 f"{len(texts)} UI strings")


def check_clock(config) -> Check:
    from kiosk.clock import kernel_clock_synced
    if config.clock.assume != "system":
        return Check("clock", OK if config.clock.assume == "synced" else WARN,
                     f"[clock] assume = {config.clock.assume!r} (the kernel is not asked)")
    synced = kernel_clock_synced()
    if synced:
        return Check("clock", OK, "synchronised (NTP)")
    return Check("clock", WARN, "NOT synchronised: ratings are stored and the server corrects "
                 "their time, but check NTP / network" if synced is False else
                 "synchronisation state unknown")


def check_disk(config) -> Check:
    folder = Path(config.store.path).parent
    folder.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(folder).free / 2**20
    status = FAIL if free_mb < 50 else WARN if free_mb < 500 else OK
    return Check("disk", status, f"{free_mb:.0f} MB free in {folder}")


def check_outbox(config) -> Check:
    from sync.outbox import Outbox
    try:
        with Outbox(config.store.path) as outbox:
            counts = outbox.counts()
            remote = outbox.config()
            last_ack = outbox.db.execute("SELECT max(acked_at) FROM ratings").fetchone()[0]
    except Exception as e:
        return Check("outbox", FAIL, f"{config.store.path}: {e}")
    import time
    ack = f"last ack {time.time() - last_ack:.0f} s ago" if last_ack else "no ack yet"
    status = WARN if counts["pending"] > 1000 or counts["rejected"] else OK
    return Check("outbox", status, f"{counts['pending']} waiting, {counts['unsealed']} "
                 f"unfinished, {counts['acked']} acked, {counts['rejected']} rejected; {ack}; "
                 f"server config revision {remote.revision if remote else 'none yet'}")


def check_broker(config) -> Check:
    from hailong.errors import ConfigError
    from sync.instance import uplink_running

    from kiosk.brokercheck import check_broker as probe
    from kiosk.config import check_account
    try:
        check_account(config)
    except ConfigError as e:
        return Check("broker", FAIL, str(e))
    if uplink_running(config.store.path):
        # The broker names sessions by account (use_username_as_clientid): connecting
        # with the kiosk's account would throw the live uplink off (issue 11). Read the
        # state the uplink writes instead.
        from sync.outbox import Outbox
        with Outbox(config.store.path) as outbox:
            link = outbox.link()
        if link and link["connected"] and link["error"]:
            return Check("broker", FAIL, f"connected, but: {link['error']}")
        if link and link["connected"]:
            return Check("broker", OK, f"the running uplink is connected to "
                         f"{config.broker.host}:{config.broker.port} as "
                         f"{config.broker.username or 'anonymous'}")
        return Check("broker", FAIL, "the running uplink is NOT connected: "
                     + ((link or {}).get("error") or "no state written yet"))
    answer = probe(config.broker, timeout=5.0)
    return Check("broker", OK if answer.ok else FAIL, answer.detail)


def check_sound(config) -> Check:
    if not config.sound.enabled:
        return Check("sound", OK, "disabled in config")
    import pygame
    try:
        pygame.mixer.init()
        freq, _, channels = pygame.mixer.get_init()
        pygame.mixer.quit()
    except pygame.error as e:
        return Check("sound", WARN, f"no sound device ({e}): the kiosk runs silently")
    return Check("sound", OK, f"{os.environ.get('SDL_AUDIODRIVER') or 'default'} device, "
                 f"{freq} Hz, {channels} channel(s), volume {config.sound.volume}")


CHECKS: tuple[Callable, ...] = (check_display, check_touch, check_gpio, check_font,
                                check_clock, check_disk, check_outbox, check_broker, check_sound)


class native_stderr_quiet:
    """Hold what C libraries write to file descriptor 2 (libasound's "ALSA lib ..."
    lines, SDL's "XDG_RUNTIME_DIR is invalid") during the checks, and log it at debug
    level: the check's own line already says what it means (issue 11)."""

    def __enter__(self):
        import tempfile
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        held = self._file.read().decode(errors="replace").strip()
        self._file.close()
        if held:
            log.debug("native libraries said during the checks:\n%s", held)


def diagnose(config) -> list[Check]:
    results = []
    for check in CHECKS:
        try:
            with native_stderr_quiet():
                results.append(check(config))
        except Exception as e:  # one broken check must not hide the others
            log.exception("%s failed", check.__name__)
            results.append(Check(check.__name__.removeprefix("check_"), FAIL, f"check crashed: {e}"))
    return results


def as_json(results: list[Check]) -> dict:
    return {"ok": all(r.status != FAIL for r in results),
            "checks": [asdict(r) for r in results]}
