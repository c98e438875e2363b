"""The kiosk's settings (one declarative table) and how to load them.

``hailong kiosk run`` and ``hailong sync run`` read the same file: the uplink needs
the kiosk's identity, its outbox and the broker.
"""

from __future__ import annotations

import re
from pathlib import Path

from hailong.errors import ConfigError
from hailong.settings import Config, Setting, load
from sync.contract import valid_id
from sync.mqtt import BROKER_SETTINGS

KIOSK_SETTINGS: tuple[Setting, ...] = (
    Setting("kiosk", "id", str, help="this kiosk's id, e.g. 'k01' (letters, digits, - and _)"),
    Setting("kiosk", "commune", str, help="the commune's id, e.g. 'xa-tan-lap'"),
    Setting("kiosk", "counter", str, help="the counter (quầy) this kiosk stands at, e.g. 'q1'"),
    Setting("kiosk", "scale", int, 4, "rating levels shown: 3, 4 or 5", minimum=3, maximum=5),
    Setting("store", "path", Path, "outbox.db", "the outbox SQLite file (relative to this file)"),
    *BROKER_SETTINGS,
    Setting("sync", "batch_size", int, 250, "ratings per MQTT message", minimum=1, maximum=1000),
    Setting("sync", "window", int, 8, "batches in flight before waiting for acks",
            minimum=1, maximum=64),
    Setting("sync", "ack_timeout", float, 10.0, "seconds before an unacked batch is re-sent; "
            "doubles each try up to backoff_max", minimum=0.5),
    Setting("sync", "backoff_max", float, 60.0, "longest wait between re-sends", minimum=1.0),
    Setting("sync", "seal_after", float, 180.0, "seconds after which an unfinished "
            "follow-up is sent as it is", minimum=5.0),
    Setting("sync", "status_interval", float, 30.0, "seconds between status messages",
            minimum=1.0),
    Setting("sync", "keep_acked_days", float, 30.0, "days to keep acked ratings on the kiosk",
            minimum=0.0),
    Setting("sync", "fault_log_every", float, 60.0, "while a broker fault lasts (refused, "
            "timeout, DNS, TLS, authorisation), log it again every this many seconds",
            minimum=1.0),
    Setting("clock", "assume", str, "system", "'system' reads the kernel's NTP state; "
            "'synced' or 'unsynced' override it", choices=("system", "synced", "unsynced")),
    # The screen (kiosk/ui): docs/kiosk.md
    Setting("display", "mode", str, "auto", "'fullscreen' (the Pi, SDL kmsdrm), 'window' "
            "(a laptop), or 'auto': full screen when there is no desktop (no DISPLAY or "
            "WAYLAND_DISPLAY)", choices=("auto", "fullscreen", "window")),
    Setting("display", "size", str, "1024x600", "window size WxH (full screen uses the "
            "screen's own size)"),
    Setting("display", "font", Path, "", "a TTF/OTF file covering Vietnamese; empty: "
            "DejaVu Sans or Noto Sans found through fontconfig"),
    Setting("display", "language", str, "vi", "language each citizen starts in",
            choices=("vi", "en")),
    Setting("flow", "mode", str, "always", "'always' open (any citizen may rate) or "
            "'transaction' (one rating per transaction from the session topic); the "
            "server's config overrides it", choices=("always", "transaction")),
    Setting("flow", "idle_timeout", float, 30.0, "seconds without a touch before any "
            "screen goes back to idle (what was pressed is kept)", minimum=5.0),
    Setting("flow", "transaction_timeout", float, 120.0, "seconds the rating screen stays "
            "open for a transaction in 'transaction' mode", minimum=10.0),
    Setting("flow", "thanks_seconds", float, 4.0, "seconds the thank-you screen shows",
            minimum=1.0, maximum=30.0),
    Setting("flow", "cooldown", float, 2.0, "seconds after a rating during which presses "
            "are ignored", minimum=0.0, maximum=30.0),
    Setting("flow", "suspect_interval", float, 30.0, "a rating closer than this many "
            "seconds to the previous one, with no new transaction between them, is stored "
            "but flagged suspect (a counter serves one citizen in a minute or more)",
            minimum=0.0),
    Setting("flow", "settle", float, 1.2, "seconds after a screen changes in which taps "
            "are ignored (logged): longer than a slow double tap (up to 1 s), so its "
            "second tap never lands on the screen the first one opened", minimum=0.0,
            maximum=5.0),
    Setting("flow", "reasons_at", int, 0, "ask for reasons at or below this score; 0: "
            "the lower half of the scale, the neutral level included (2 of 4, 3 of 5)",
            minimum=0, maximum=5),
    Setting("flow", "session_expiry", float, 600.0, "seconds a transaction (session, "
            "scanned receipt) stays usable when it carries no expires_at of its own",
            minimum=10.0),
    Setting("flow", "follow_up", bool, True, "ask for reasons after a low score"),
    Setting("flow", "ask_phone", bool, True, "offer a call-back number (with consent) "
            "after the reasons"),
    Setting("flow", "contact_retention_days", int, 30, "until the server's config says "
            "otherwise: days the commune keeps a call-back "
            "number; stated in the consent sentence (Decree 13/2023)", minimum=1,
            maximum=3650),
    Setting("flow", "tech_pin", str, "", "PIN of the technician menu (five taps in the "
            "top-left corner, or F12); empty disables the menu", secret=True),
    Setting("display", "min_text_mm", float, 3.2, "smallest cap height of any text on a "
            "citizen's screen, in mm on the 7\" 800x480 panel (5.2 px/mm; other sizes "
            "scale with the short side); the layout check fails below it", minimum=1.0,
            maximum=10.0),
    Setting("scanner", "dossier_pattern", str,
            r"^[0-9A-Za-z.]{2,40}-[0-9]{6}-[0-9]{3,6}$",
            "regular expression a scanned code (USB barcode/QR reader typing the dossier "
            "code and Enter) must match to open the rating for that dossier; empty: "
            "scans are ignored"),
    Setting("scanner", "key_gap", float, 0.05, "keys closer than this many seconds, "
            "ending in Enter, are a scan, not a citizen's key presses", minimum=0.005,
            maximum=0.5),
    Setting("gpio", "pin_factory", str, "auto", "gpiozero pin factory for the buttons: "
            "auto, lgpio, rpigpio, pigpio, native; 'mock' only for tests and demos",
            choices=("auto", "lgpio", "rpigpio", "pigpio", "native", "mock")),
    Setting("gpio", "buttons", list, [], "BCM pins of the rating buttons, best level "
            "first (left to right); empty: touch only"),
    Setting("gpio", "leds", list, [], "BCM pins of the buttons' lights, in the same order"),
    Setting("gpio", "buzzer", int, 0, "BCM pin of a buzzer that beeps on a press; 0: none",
            minimum=0, maximum=27),
    Setting("gpio", "bounce", float, 0.05, "button debounce time in seconds", minimum=0.0,
            maximum=1.0),
    Setting("sound", "enabled", bool, True, "play a chime inviting a rating and on thank "
            "you (silent where there is no sound device)"),
    Setting("sound", "voice", bool, True, "speak the prompts in Vietnamese (the rating "
            "question, the reasons, thank you) from the WAV files in voice_dir; false: "
            "chimes only"),
    Setting("sound", "voice_dir", Path, "voice", "folder of spoken prompts prompt.wav, "
            "reasons.wav, thanks.wav (made by `hailong kiosk voice` with espeak-ng; "
            "recordings the commune makes replace them under the same names)"),
    Setting("sound", "volume", float, 0.6, "0.0 (mute) to 1.0", minimum=0.0, maximum=1.0),
    Setting("sound", "prompt_file", Path, "", "a recorded voice prompt (WAV/OGG) instead "
            "of the chime"),
    Setting("sound", "thanks_file", Path, "", "a recorded thank-you (WAV/OGG)"),
)


def load_kiosk_config(path, **kw) -> Config:
    config = load(path, KIOSK_SETTINGS, **kw)
    _check_ids(config)
    try:
        re.compile(config.scanner.dossier_pattern)
    except re.error as e:
        raise ConfigError(f"{config.path}: [scanner] dossier_pattern: not a regular "
                          f"expression: {e}") from None
    return config


def check_account(config: Config) -> None:
    """The broker names a kiosk's session and topics by its account
    (``use_username_as_clientid`` and the ACL's ``%u``): an id that differs is refused
    by the ACL, silently, for ever (issue 11). Say so at start instead."""
    user = config.broker.username
    if user and user != config.kiosk.id:
        raise ConfigError(f"{config.path}: [kiosk] id {config.kiosk.id!r} does not match "
                          f"[broker] username {user!r}: a kiosk may only use its own "
                          "account (copy both from its enrolment bundle)")


def _check_ids(config: Config) -> None:
    for key in ("id", "commune", "counter"):
        value = config.kiosk[key]
        if not valid_id(value):
            raise ConfigError(f"{config.path}: [kiosk] {key}: {value!r} must be lower-case "
                              "letters, digits, '-' or '_' (it is part of MQTT topics)")
