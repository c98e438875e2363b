"""The kiosk's state machine and its one input handler.

``KioskApp`` owns the screens (see ``screens``), the current one, the inactivity
timer and the failsafe: an exception in any screen, or an outbox that cannot store,
puts up the out-of-order screen instead of a traceback or a frozen face.

The loop blocks in ``pygame.event.wait`` with a timeout (the next thing due: the
outbox poll, a screen's timer, the watchdog), and draws only when something
changed, so an idle kiosk costs next to no CPU.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from collections import deque
from datetime import datetime

import pygame

import hailong
from hailong import domain
from hailong.systemd import notify, watchdog_interval
from sync import contract

from kiosk.duty import Duty
from sync.outbox import Outbox, OutboxError
from kiosk.recorder import PressGuard, Recorder, Transaction, session_expiry
from kiosk.ui import draw
from kiosk.ui.events import BUTTON, TapFilter
from kiosk.ui.fonts import Fonts, find_font
from kiosk.ui.i18n import LANGUAGES, MSGIDS, translator
from kiosk.ui.screens import SCREENS, Screen

log = logging.getLogger(__name__)

FOLLOW_UP = ("reasons", "phone", "survey")
POLL_EVERY = 0.5      # seconds between looks at the outbox for config and sessions
CORNER_TAPS = 5       # taps in the top-left corner within CORNER_WINDOW open the PIN screen
CORNER_WINDOW = 4.0
# Screens on which a physical button (or key 1-5) rates: every citizen screen, so a
# button-only kiosk is never dead (issue 9: a low press used to open a touch-only screen
# that ignored the next citizen's press for 30 s).
BUTTON_SCREENS = ("idle", "rating", "reasons", "phone", "survey", "thanks")


class KioskApp:
    def __init__(self, config, outbox: Outbox, surface: pygame.Surface, *, inputs=None,
                 sound=None, fonts: Fonts | None = None, clock=time.monotonic, wall=None):
        """``clock`` (monotonic seconds) drives every timer and the misuse guard;
        ``wall`` (Unix seconds) stamps ratings and judges session expiry. Both are
        injectable so `hailong kiosk replay` runs a script on a simulated clock."""
        from kiosk.sound import Sound
        from kiosk.ui.scan import ScanReader

        self.config = config
        self.flow = config.flow
        self.outbox = outbox
        self.surface = surface
        self.inputs = inputs
        self.sound = sound or Sound(enabled=False)
        self.clock = clock
        self.wall = wall or time.time
        self.fonts = fonts or Fonts(*find_font(config.display.font or None))
        self.recorder = Recorder.from_config(
            config, outbox, wall=wall, mono=clock if wall else None,
            guard=PressGuard(min_interval=config.flow.suspect_interval))
        self.scanner = ScanReader(config.scanner.dossier_pattern, config.scanner.key_gap)
        self.ignored: list[dict] = []   # every input ignored, with why (also logged)
        self.duty = Duty(outbox)
        self.default_language = config.display.language
        self.lang = self.default_language
        self.t = translator(self.lang)
        self.remote: contract.KioskConfig | None = None
        self.screens: dict[str, Screen] = {cls.name: cls(self) for cls in SCREENS}
        self.screen: Screen | None = None
        self.dirty = True
        self.running = True
        self.taps = TapFilter(clock)
        self.corner: deque[float] = deque(maxlen=CORNER_TAPS)
        self.last_activity = self.entered_at = clock()
        self.cooldown_until = 0.0
        self.open_rating: str | None = None   # scored, follow-up not finished yet
        self.answers: list[contract.SurveyAnswer] = []  # the open rating's survey so far
        self.thanks_params: dict = {}         # what the thank-you says after the survey
        self.last_input = "-"
        self.frames = 0
        self._next_poll = 0.0
        self.poll()
        self.go("idle")

    # --- what screens read ------------------------------------------------------------

    @property
    def scale(self) -> int:
        return self.remote.scale if self.remote else self.config.kiosk.scale

    @property
    def contact_retention_days(self) -> int:
        """What the consent sentence promises: the server's retention, once it has said."""
        if self.remote and self.remote.contact_retention_days:
            return self.remote.contact_retention_days
        return self.flow.contact_retention_days

    @property
    def mode(self) -> str:
        return self.remote.mode if self.remote else self.flow.mode

    @property
    def levels(self) -> tuple[domain.Level, ...]:
        return domain.LEVELS[self.scale]

    @property
    def low_reasons(self):
        if self.remote and self.remote.low_reasons:
            return tuple(self.remote.low_reasons)
        return domain.LOW_REASONS

    @property
    def survey(self) -> contract.Survey | None:
        """The SIPAS survey asked after each rating, when the server turned it on."""
        survey = self.remote.survey if self.remote else None
        return survey if isinstance(survey, contract.Survey) else None

    @property
    def survey_levels(self) -> tuple[domain.Level, ...]:
        """The survey's answer levels, best first: its own words, or the rating's."""
        survey = self.survey
        scale = survey.scale if survey else self.scale
        if survey and survey.levels and len(survey.levels) == scale:
            return tuple(domain.Level(scale - i, lv.vi, lv.en)
                         for i, lv in enumerate(survey.levels))
        return domain.LEVELS[scale]

    @property
    def counter_label(self) -> str:
        return (self.remote.counter_name if self.remote and self.remote.counter_name
                else self.config.kiosk.counter)

    def counter_title(self) -> str:
        """'Quầy 1 – Tư pháp': the prefix only when the name does not carry it already
        (the guide's own example name is 'Quầy 1 – Tư pháp'; issue 9: 'Quầy Quầy 1')."""
        label = self.counter_label.strip()
        if re.match(r"(?i)(quầy|counter)\b", label):
            return label
        return self.t("Counter {counter}", counter=label)

    def min_text_px(self, size: tuple[int, int]) -> int:
        """The smallest font size (px) whose capitals are ``[display] min_text_mm``
        high: 5.2 px/mm on the 7" 800x480 panel, scaled with the short side."""
        px_per_mm = 5.2 * min(size) / 480
        return math.ceil(self.config.display.min_text_mm * px_per_mm / self.fonts.cap_ratio())

    def label(self, item) -> str:
        """The Vietnamese or English label of a level or reason (English may be missing)."""
        return item.en if self.lang == "en" and item.en else item.vi

    def official(self, official_id: str | None) -> contract.Official | None:
        if not official_id:
            return None
        for o in (self.remote.officials if self.remote else ()):
            if o.id == official_id:
                return o
        return contract.Official(id=official_id, name=official_id)

    def on_duty(self) -> contract.Official | None:
        tx = self.recorder.transaction
        return self.official((tx.official if tx else None) or self.recorder.official)

    def photo_for(self, official: contract.Official):
        """A cached local photo file if the photo cache has one (else initials are drawn)."""
        try:
            from kiosk.photos import photo_path  # filled by the sync process; disk only
        except ImportError:
            return None
        try:
            return photo_path(self.config, official)
        except Exception:  # a broken cache must never take the screen down
            log.exception("photo cache failed for %s", official.id)
            return None

    def asks_reasons(self, score: int) -> bool:
        """Reasons are asked at or below ``[flow] reasons_at`` (0: the lower half of
        the scale, the neutral level included: VNPT's tablets ask at <= 3 of 5)."""
        if not self.flow.follow_up:
            return False
        limit = self.flow.reasons_at or (self.scale + 1) // 2
        return score <= limit

    def ignore(self, what: str, why: str) -> None:
        """An input that does nothing: never silently (issue 9)."""
        log.info("%s ignored: %s", what, why)
        self.ignored.append({"at": round(self.clock(), 3), "input": what, "why": why})
        del self.ignored[:-200]  # a long replay keeps the recent ones

    def transaction_dossier(self) -> str | None:
        tx = self.recorder.transaction
        return tx.dossier if tx else None

    def all_strings(self, remote: bool = True) -> list[str]:
        """Every string a screen may show, in every language (for the font check);
        ``remote=False`` leaves out names and labels the server sent."""
        out = []
        for lang in LANGUAGES:
            t = translator(lang)
            out += [t(m) for m in MSGIDS]
        for scale in domain.LEVELS:
            out += [s for lv in domain.LEVELS[scale] for s in (lv.vi, lv.en)]
        out += [s for r in domain.LOW_REASONS + domain.HIGH_REASONS for s in (r.vi, r.en)]
        if remote and self.remote:
            out += [s for r in self.low_reasons for s in (r.vi, r.en) if s]
            out += [s for o in self.remote.officials for s in (o.name, o.title or "") if s]
            out.append(self.remote.counter_name)
            if self.survey:  # the SIPAS questions and answer words (issue 12)
                out += [s for q in self.survey.questions for s in (q.vi, q.en) if s]
                out += [s for lv in self.survey_levels for s in (lv.vi, lv.en) if s]
        return [s for s in out if s]

    # --- the state machine ----------------------------------------------------------

    def go(self, name: str, **params) -> None:
        old = self.screen
        try:
            if old is not None:
                old.exit()
            if old is not None and old.name in FOLLOW_UP and name not in FOLLOW_UP:
                self._seal_open()
            self.screen = self.screens[name]
            self.screen.enter(**params)
        except Exception as e:  # the failsafe: never stay on a half-entered screen
            if name == "out_of_order":
                raise
            log.exception("entering %s failed", name)
            self.go("out_of_order", detail=str(e))
            return
        # The buttons' lights say "you can press now".
        # (dark on thank-you until the cooldown ends: the screen lights them then)
        self.lights(name in BUTTON_SCREENS and name != "thanks" and self.can_rate())
        log.debug("screen %s -> %s", old.name if old else None, name)
        self.last_activity = self.entered_at = self.clock()
        self.dirty = True

    def fail(self, detail: str) -> None:
        log.error("out of order: %s", detail)
        try:
            self.outbox.log_event("kiosk-out-of-order", detail)
        except Exception:
            pass
        self.go("out_of_order", detail=detail)

    def recover(self) -> None:
        """From out-of-order: back to idle if the outbox answers again."""
        try:
            self.outbox.db.execute("SELECT count(*) FROM ratings").fetchone()
        except Exception as e:
            log.warning("still out of order: %s", e)
            return
        self.go("idle")

    def _seal_open(self) -> None:
        if self.open_rating:
            try:
                self.outbox.seal(self.open_rating)
            except OutboxError as e:
                log.error("could not seal %s: %s (the uplink seals it later)",
                          self.open_rating, e)
            self.open_rating = None

    # --- the citizen's flow ---------------------------------------------------------

    def set_language(self, lang: str) -> None:
        if lang != self.lang:
            self.lang, self.t = lang, translator(lang)
            self.dirty = True

    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "vi" else "vi")

    def can_rate(self) -> bool:
        return self.mode == "always" or self.recorder.transaction is not None

    def start_rating(self) -> None:
        if self.can_rate():
            self.go("rating")
            self.sound.play("prompt")
        else:
            self.ignore("touch", "no open transaction")

    def rate_position(self, position: int, what: str = "press") -> None:
        if 0 <= position < len(self.levels):
            self.rate(self.levels[position].score, what)
        else:
            self.ignore(what, f"no level {position + 1} on a {self.scale}-level scale")

    def rate(self, score: int, what: str = "press") -> None:
        """The one handler every score goes through: stored before the screen moves on."""
        now = self.clock()
        if now < self.cooldown_until:
            self.ignore(what, "cooldown after a rating")
            return
        self._drop_expired()
        if not self.can_rate():
            self.ignore(what, "no open transaction")
            return
        # A press while the previous citizen's follow-up is open: that citizen is gone
        # (or pressed again); seal what they entered and take the new rating.
        self._seal_open()
        follow = self.asks_reasons(score)
        survey = self.survey is not None
        self.recorder.scale = self.scale
        try:
            rating = self.recorder.press(score, sealed=not (follow or survey), at=now,
                                         lang=self.lang)
        except OutboxError as e:
            self.fail(str(e))
            return
        self.cooldown_until = now + self.flow.cooldown
        self.answers = []
        self.thanks_params = {}
        if follow:
            self.open_rating = rating.id
            self.go("reasons")
            self.sound.play("reasons")
        elif survey:
            self.open_rating = rating.id
            self.go("survey", index=0)
            self.sound.play("prompt")
        else:
            self.go("thanks")
            self.sound.play("thanks")
        if self.inputs is not None:  # after go(), which darkens the lights
            position = [lv.score for lv in self.levels].index(score)
            self.inputs.acknowledge(position)

    def save_reasons(self, codes: list[str], *, seal: bool = False) -> None:
        """Store the reasons as they are ticked: a walk-away keeps them (issue 9)."""
        if not self.open_rating:
            return
        try:
            if not self.recorder.amend(self.open_rating, reasons=codes, seal=seal):
                log.warning("rating %s was already sealed: reasons not changed",
                            self.open_rating)
        except OutboxError as e:
            self.fail(str(e))

    def finish_reasons(self, codes: list[str]) -> None:
        survey = self.survey is not None
        if self.open_rating:
            self.save_reasons(codes, seal=not (self.flow.ask_phone or survey))
            if self.screen is not None and self.screen.name == "out_of_order":
                return
        if self.flow.ask_phone:
            self.go("phone")
        elif survey and self.open_rating:
            self.thanks_params = {"low": True}
            self.go("survey", index=0)
        else:
            self.open_rating = None
            self.go("thanks", low=True)
            self.sound.play("thanks")

    def finish_contact(self, phone: str | None, consent_text: str) -> None:
        survey = self.survey is not None and self.open_rating is not None
        if self.open_rating and phone:
            contact = contract.Contact(phone=phone, consent=True, consent_text=consent_text)
            try:
                if not self.recorder.amend(self.open_rating, contact=contact, seal=not survey):
                    log.warning("rating %s was already sealed: number not added",
                                self.open_rating)
            except OutboxError as e:
                self.fail(str(e))
                return
            if not survey:
                self.open_rating = None
        if survey:
            self.thanks_params = {"low": True, "contact": bool(phone)}
            self.go("survey", index=0)
            return
        self.go("thanks", low=True, contact=bool(phone))
        self.sound.play("thanks")

    # --- the SIPAS survey (issue 12) ---------------------------------------------------

    def answer(self, index: int, level: int) -> None:
        """The citizen chose ``level`` for question ``index``: stored at once (a walk-away
        keeps it), then the next question, or thanks after the last."""
        survey = self.survey
        if survey is None or not self.open_rating or not 0 <= index < len(survey.questions):
            self.finish_survey()
            return
        q = survey.questions[index]
        self.answers = [a for a in self.answers if a.q != q.code] + [
            contract.SurveyAnswer(q=q.code, factor=q.factor, level=level, scale=survey.scale)]
        last = index + 1 >= len(survey.questions)
        try:
            if not self.recorder.answer(self.open_rating, self.answers, seal=last):
                log.warning("rating %s was already sealed: survey answer not added",
                            self.open_rating)
        except OutboxError as e:
            self.fail(str(e))
            return
        if last:
            self.finish_survey()
        else:
            self.go("survey", index=index + 1)

    def answer_position(self, index: int, position: int, what: str = "press") -> None:
        """A physical button or key on a survey question: its level, best first."""
        levels = self.survey_levels
        if 0 <= position < len(levels):
            self.answer(index, levels[position].score)
        else:
            self.ignore(what, f"no answer level {position + 1}")

    def finish_survey(self) -> None:
        """Done or skipped: seal what was answered and say thank you."""
        self._seal_open()
        self.answers = []
        params, self.thanks_params = self.thanks_params, {}
        self.go("thanks", **params)
        self.sound.play("thanks")

    # --- technician -----------------------------------------------------------------

    def _pin_hash(self) -> str | None:
        # the server's PIN for this kiosk wins over the local [flow] tech_pin
        return self.remote.tech_pin_hash if self.remote else None

    def open_pin(self) -> None:
        from kiosk.pinguard import PinGuard
        if not (self._pin_hash() or self.flow.tech_pin):
            log.warning("technician menu asked for, but no PIN is set (server set-pin, "
                        "or [flow] tech_pin)")
            return
        wait = PinGuard(self.outbox).locked_for()
        if wait > 0:
            log.warning("technician PIN locked for %.0f s after wrong tries", wait)
            return
        self.go("pin")

    def check_pin(self, digits: str) -> None:
        from hailong.pin import verify_pin
        from kiosk.pinguard import PinGuard
        guard = PinGuard(self.outbox)
        hashed = self._pin_hash()
        if guard.locked_for() > 0:
            ok = False  # no check at all while locked: guessing gains nothing
        elif hashed:
            ok = verify_pin(digits, hashed)
        else:
            ok = bool(self.flow.tech_pin) and hmac.compare_digest(digits, self.flow.tech_pin)
        if ok:
            guard.opened()
            self.go("tech")
        else:
            guard.failed()
            log.warning("wrong technician PIN")
            self.go("idle")

    def sign_in(self, official_id: str) -> None:
        self.duty.sign_in(official_id)
        self._refresh_duty()

    def sign_out(self) -> None:
        self.duty.sign_out()
        self._refresh_duty()

    def test_lights(self) -> None:
        if self.inputs is not None:
            self.inputs.test()

    def lights(self, on: bool) -> None:
        if self.inputs is not None:
            self.inputs.lights(on)

    def tech_info(self) -> dict:
        t = self.t
        counts = self.outbox.counts()
        last_ack = self.outbox.db.execute("SELECT max(acked_at) FROM ratings").fetchone()[0]
        event = self.outbox.last_event()
        synced = self.recorder.clock.is_synced()
        on_duty = self.official(self.recorder.official)
        when = (datetime.fromtimestamp(last_ack).strftime("%Y-%m-%d %H:%M:%S")
                if last_ack else t("never"))
        lines = [
            t("Kiosk {kiosk} · counter {counter} · version {version}", kiosk=self.config.kiosk.id,
              counter=self.config.kiosk.counter, version=hailong.__version__),
            t("Backlog: {pending} waiting, {unsealed} unfinished, {rejected} rejected", **counts),
            t("Last ack from the server: {when}", when=when),
            *self._rejected_line(counts),
            self._link_line(),
            t("Clock: {now} ({state})", now=datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
              state=t("synchronised") if synced else t("NOT synchronised")),
            t("Last event: {event}", event=f"{event['kind']} {event['detail']}"[:60]
              if event else "-"),
            t("On duty: {name}", name=on_duty.name if on_duty else t("nobody")),
            t("Press any button to test it. Last input: {what}", what=self.last_input),
        ]
        roster = list(self.remote.officials) if self.remote else []
        if not roster:
            lines.append(t("No roster from the server yet"))
        return {"lines": lines, "roster": roster, "counts": counts}

    def _rejected_line(self, counts: dict) -> list[str]:
        """Why the server refused ratings (issue 8), when it did: nothing otherwise."""
        if not counts.get("rejected"):
            return []
        reason = self.outbox.last_rejected_reason() or "-"
        return [self.t("Rejected by the server: {n}, last reason: {reason}",
                       n=counts["rejected"], reason=reason[:30])]

    def _link_line(self) -> str:
        """The uplink's broker connection as it last wrote it to the outbox."""
        t = self.t
        link = self.outbox.link()
        if link is None:
            return t("Broker: no word from the uplink yet")
        when = datetime.fromtimestamp(link["changed_at"]).strftime("%H:%M:%S")
        if link["connected"]:
            return t("Broker: connected since {when}", when=when)
        return t("Broker: NOT connected since {when} ({error})", when=when,
                 error=(link["error"] or "-")[:40])

    # --- outbox polling ---------------------------------------------------------------

    def _refresh_duty(self) -> None:
        roster = self.remote.on_duty if self.remote else None
        official = self.duty.on_duty(roster)
        if official != self.recorder.official:
            self.recorder.official = official
            self.dirty = True

    def poll(self) -> None:
        """Read what the uplink left in the outbox: config and transactions."""
        if self.outbox.was_replaced():
            log.warning("the outbox file was replaced: reopening it")
            self.outbox.close()
            self.outbox = Outbox(self.outbox.path)
            self.recorder.outbox = self.outbox
            self.duty = Duty(self.outbox)
        remote = self.outbox.config()
        remote_changed = remote != self.remote
        if remote_changed:
            self.remote = remote
            self.recorder.scale = self.scale
            self.dirty = True
        self._refresh_duty()
        waiting = self.outbox.db.execute(
            "SELECT 1 FROM sessions WHERE used = 0 LIMIT 1").fetchone()
        if waiting:
            taken = self.outbox.take_session_at(self.wall(), self.flow.session_expiry)
            if taken is not None:
                self.open_transaction(*taken)
        self._drop_expired()
        if (self.mode == "transaction" and self.recorder.transaction is not None
                and self.screen is not None and self.screen.name == "idle"):
            self.go("rating")  # a transaction arrived while a citizen was finishing
        if remote_changed and self.screen is not None and self.screen.name in ("idle", "rating"):
            self.lights(self.can_rate())

    def open_transaction(self, session: contract.Session, expires_at: float | None = None) -> None:
        """The next rating is for this transaction, until it expires (its own
        ``expires_at``, or ``[flow] session_expiry`` after it was opened)."""
        if expires_at is None:
            expires_at = session_expiry(session, self.wall(), self.flow.session_expiry)
        if expires_at <= self.wall():
            log.info("transaction %s expired before it was used: ignored", session.transaction)
            return
        self._seal_open()
        self.recorder.transaction = Transaction(
            id=session.transaction, official=session.official, dossier=session.dossier,
            procedure=session.procedure, field=session.field, expires_at=expires_at)
        log.info("transaction %s opened (dossier %s)", session.transaction, session.dossier)
        if self.screen is not None and self.screen.name in FOLLOW_UP + ("thanks",):
            self.go("idle")  # the previous citizen is done: this one is at the counter
        if self.screen is not None and self.screen.name in ("idle", "rating"):
            self.go("rating")
            self.sound.play("prompt")

    def _drop_expired(self) -> None:
        tx = self.recorder.transaction
        if tx is not None and tx.expires_at is not None and tx.expires_at <= self.wall():
            log.info("transaction %s expired unrated", tx.id)
            self.recorder.transaction = None
            if self.screen is not None and self.screen.name == "rating" and not self.can_rate():
                self.go("idle")
            self.dirty = True

    def scanned(self, code: str) -> None:
        """A USB barcode/QR reader typed a code and Enter: a dossier receipt opens the
        rating for that dossier (a local session); anything else is ignored, logged."""
        if not self.scanner.matches(code):
            self.ignore(f"scan {code[:60]!r}", "does not match [scanner] dossier_pattern")
            return
        day = datetime.fromtimestamp(self.wall()).strftime("%Y-%m-%d")
        # One rating per dossier per day: the same receipt scanned twice is the same
        # transaction (the server rejects the second rating as duplicate-transaction).
        session = contract.Session(v=1, transaction=f"scan:{code}@{day}"[:200],
                                   dossier=code[:200], at=self.wall())
        self.outbox.log_event("scan", code)
        self.open_transaction(session)

    # --- input ------------------------------------------------------------------------

    def handle(self, event: pygame.event.Event) -> None:
        """The one handler: every input, whatever its source, comes through here."""
        screen = self.screen
        assert screen is not None
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type in (pygame.FINGERDOWN, pygame.MOUSEBUTTONDOWN):
            pos = self.taps.tap(event, self.surface.get_size())
            if pos is not None:
                self.last_input = f"touch {pos[0]},{pos[1]}"
                self._tap(pos)
        elif event.type == pygame.KEYDOWN:
            self.last_input = f"key {pygame.key.name(event.key)}"
            self.last_activity = self.clock()
            # A scanner is a keyboard: keys are held back for [scanner] key_gap so that
            # a code typed in a few ms and ended by Enter is read as one scan.
            for kind, value in self.scanner.key(event.key, event.unicode or "", self.clock()):
                self._dispatch(kind, value)
        elif event.type == BUTTON:
            self.last_input = f"button {event.index + 1}"
            self.last_activity = self.clock()
            if self.screen.name in BUTTON_SCREENS or self.screen.name == "tech":
                screen.on_button(event.index)
            else:
                self.ignore(f"button {event.index + 1}", f"on the {screen.name} screen")
        elif event.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED, pygame.VIDEORESIZE):
            self.dirty = True

    def _dispatch(self, kind: str, value) -> None:
        """A key the scan reader let through, or a whole scan."""
        if kind == "scan":
            self.scanned(value)
        elif value[0] == pygame.K_F12:
            self.open_pin()
        else:
            self.screen.on_key(*value)

    def _tap(self, pos: tuple[int, int]) -> None:
        screen = self.screen
        now = self.clock()
        self.last_activity = now
        # The second tap of a slow double tap (elderly hands: 0.45-1 s) must not land on
        # the screen the first tap opened (issue 9: a ghost "Không hài lòng").
        if now - self.entered_at <= self.flow.settle and screen.name != "idle":
            self.ignore(f"touch {pos[0]},{pos[1]}", f"{screen.name} screen settling")
            return
        w, h = self.surface.get_size()
        if screen.name in ("idle", "out_of_order") and pos[0] < w * 0.12 and pos[1] < h * 0.15:
            self.corner.append(now)
            if len(self.corner) == CORNER_TAPS and now - self.corner[0] < CORNER_WINDOW:
                self.corner.clear()
                self.open_pin()
            return
        for target in screen.targets:
            if target.rect.collidepoint(pos):
                screen.on_target(target.name)
                return
        screen.on_background(pos)

    # --- the loop -----------------------------------------------------------------------

    def render(self) -> None:
        # Citizens' screens never draw text below the physical minimum; the layout
        # check reads what could not fit (fonts.report).
        self.fonts.min_px = (self.min_text_px(self.surface.get_size())
                             if self.screen.citizen else 10)
        self.fonts.report = []
        try:
            self.screen.draw(self.surface)
        except Exception as e:
            if self.screen.name == "out_of_order":
                self.surface.fill(draw.FAULT_BG)
                log.exception("even the out-of-order screen failed to draw")
            else:
                log.exception("drawing %s failed", self.screen.name)
                self.fail(f"draw {self.screen.name}: {e}")
                self.screen.draw(self.surface)
        if pygame.display.get_init() and pygame.display.get_surface() is self.surface:
            pygame.display.flip()
        self.frames += 1
        self.dirty = False

    def _inactivity_limit(self) -> float | None:
        limit = self.screen.timeout
        if limit is None:
            limit = self.flow.idle_timeout
        return limit or None

    def wait_time(self) -> float:
        now = self.clock()
        due = [self._next_poll]
        limit = self._inactivity_limit()
        if limit:
            due.append(self.last_activity + limit)
        tick = self.screen.next_tick()
        if tick is not None:
            due.append(tick)
        flush = self.scanner.due()
        if flush is not None:
            due.append(flush)
        return max(0.0, min(due) - now)

    def step(self, events: list[pygame.event.Event]) -> None:
        """Handle events, timers and polling; draw if anything changed."""
        for event in events:
            try:
                self.handle(event)
            except Exception as e:
                log.exception("handling %s failed", pygame.event.event_name(event.type))
                self.fail(str(e))
        now = self.clock()
        for kind, value in self.scanner.flush(now):
            try:
                self._dispatch(kind, value)
            except Exception as e:
                log.exception("handling a key failed")
                self.fail(str(e))
        try:
            if now >= self._next_poll:
                self._next_poll = now + POLL_EVERY
                self.poll()
            tick = self.screen.next_tick()
            if tick is not None and now >= tick:
                self.screen.tick(now)
            limit = self._inactivity_limit()
            if limit and now - self.last_activity >= limit:
                self.timeout()
        except OutboxError as e:
            self.fail(str(e))
        except Exception as e:
            log.exception("kiosk step failed")
            self.fail(str(e))
        if self.dirty:
            self.render()

    def timeout(self) -> None:
        """Nobody touched the screen for a while: back to idle, keeping what was stored."""
        name = self.screen.name
        log.info("inactivity on %s: back to idle", name)
        if name == "rating":
            self.recorder.transaction = None  # left without rating: the next citizen is not them
        self.go("idle")

    def run(self, first_frame_hook=None) -> None:
        """The loop: block for events until something is due; draw only when dirty."""
        self.render()
        notify("READY=1")
        if first_frame_hook:
            first_frame_hook()
        beat = watchdog_interval() or 10.0
        next_beat = self.clock()
        while self.running:
            timeout = min(self.wait_time(), max(0.0, next_beat - self.clock()))
            first = pygame.event.wait(max(1, int(timeout * 1000)))
            events = [first] if first.type != pygame.NOEVENT else []
            events += pygame.event.get()
            self.step(events)
            if getattr(self, "snapshot_to", None):  # asked for by `kiosk snapshot`
                from kiosk.ui.snapshot import save
                save(self.surface, self.snapshot_to)
                self.snapshot_to = None
            if self.clock() >= next_beat:
                notify("WATCHDOG=1")
                next_beat = self.clock() + beat

    def close(self) -> None:
        self._seal_open()
        if self.inputs is not None:
            self.inputs.lights(False)
