"""The screens: each draws itself onto any Surface and reacts to named targets.

A screen has ``enter`` / ``exit`` (called by the state machine), ``draw`` (which
also lays out its touch targets for the current size), and ``on_target`` /
``on_key`` / ``on_button`` for input that the app has already turned into one
kind of action. Screens hold no hardware and no database: they call the app.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pygame

from kiosk.ui import draw
from kiosk.ui.i18n import LANGUAGE_NAMES
from kiosk.ui.layout import Metrics, Target, grid, row, stack

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.ui.app import KioskApp

PHONE_MIN, PHONE_MAX = 9, 15  # digits: a Vietnamese number has 10; landlines may differ


class Screen:
    name = ""
    timeout: float | None = None   # inactivity before idle; None = the app's setting, 0 = never
    citizen = True                 # a citizen's screen (language switch, big targets)

    def __init__(self, app: KioskApp):
        self.app = app
        self.targets: list[Target] = []

    def enter(self, **params) -> None:
        pass

    def exit(self) -> None:
        pass

    def tick(self, now: float) -> None:
        """Called from the loop; for screens that move on by themselves."""

    def next_tick(self) -> float | None:
        """When :meth:`tick` next needs to run (monotonic), or None."""
        return None

    def draw(self, surface: pygame.Surface) -> None:
        raise NotImplementedError

    def on_target(self, name: str) -> None:
        pass

    def on_background(self, pos: tuple[int, int]) -> None:
        pass

    def on_key(self, key: int, char: str) -> None:
        pass

    def on_button(self, index: int) -> None:
        self.app.ignore(f"button {index + 1}", f"on the {self.name} screen")

    # --- shared pieces -------------------------------------------------------------

    def _lang_target(self, area: pygame.Rect, m: Metrics) -> Target:
        rect = pygame.Rect(0, 0, m.px(150 if m.portrait else 190), max(m.min_target, m.px(78)))
        rect.topright = (area.right, area.y)
        return Target("lang", rect)

    def _draw_lang(self, surface: pygame.Surface, target: Target, m: Metrics) -> None:
        other = "en" if self.app.lang == "vi" else "vi"
        draw.button(surface, self.app.fonts, target.rect, LANGUAGE_NAMES[other], size=m.px(24),
                    radius=m.px(14))

    def _header(self, surface: pygame.Surface, m: Metrics, title: str) -> list[Target]:
        """The blue band at the top: who is rated, the question, the language switch."""
        band_h = m.px(132) if m.portrait else m.px(96)
        band = pygame.Rect(0, 0, m.w, band_h)
        pygame.draw.rect(surface, draw.BRAND, band)
        inner = band.inflate(-2 * m.margin, -2 * m.px(8))
        lang = self._lang_target(pygame.Rect(inner.x, band.centery - m.min_target // 2,
                                             inner.w, m.min_target), m)
        self._draw_lang(surface, lang, m)
        self.band_bottom = band.bottom
        official = self.app.on_duty()
        x = inner.x
        if official is not None and not m.portrait:  # portrait: the words need the width
            r = inner.h // 2
            draw.avatar(surface, self.app.fonts, (inner.x + r, inner.centery), r,
                        official.name, self.app.photo_for(official))
            x = inner.x + 2 * r + m.gap
        text_rect = pygame.Rect(x, inner.y, lang.rect.x - m.gap - x, inner.h)
        draw.text(surface, self.app.fonts, title, text_rect, size=m.px(30), colour=draw.WHITE,
                  bold=True, align="left")
        return [lang]


class Idle(Screen):
    """Who serves at this counter, and an invitation to rate."""
    name = "idle"
    timeout = 0

    def enter(self, **params) -> None:
        self.app.set_language(self.app.default_language)

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        inner = m.inner
        top, middle, bottom = stack(inner, max(m.min_target, m.px(78)), 1.0,
                                    m.px(150) if m.portrait else m.px(112), gap=m.gap)
        lang = self._lang_target(top, m)
        self._draw_lang(surface, lang, m)
        draw.text(surface, app.fonts, app.counter_title(),
                  pygame.Rect(top.x, top.y, lang.rect.x - top.x - m.gap, top.h),
                  size=m.px(34), bold=True, align="left", colour=draw.BRAND)
        official = app.on_duty()
        if m.portrait:
            pic, words = stack(middle, 0.55, 0.45, gap=m.gap)
        else:
            pic, words = row(middle, min(middle.h, int(middle.w * 0.38)), 1.0, gap=m.px(24))
        r = min(pic.w, pic.h) // 2 - m.px(6)
        if official is not None:
            draw.avatar(surface, app.fonts, pic.center, r, official.name,
                        app.photo_for(official))
            lines = stack(words.inflate(0, -m.px(20)), 0.25, 0.45, 0.3)
            align = "center" if m.portrait else "left"
            draw.text(surface, app.fonts, t("Official on duty"), lines[0], size=m.px(26),
                      colour=draw.MUTED, align=align, valign="bottom")
            draw.text(surface, app.fonts, official.name, lines[1], size=m.px(48), bold=True,
                      align=align)
            if official.title:
                draw.text(surface, app.fonts, official.title, lines[2], size=m.px(26),
                          colour=draw.MUTED, align=align, valign="top")
        else:
            pygame.draw.circle(surface, draw.LIGHT, pic.center, r)
            draw.face(surface, pic.center, int(r * 0.7), draw.FACE_COLOURS[3][0], 1.0)
            draw.text(surface, app.fonts, t("No official signed in at this counter"), words,
                      size=m.px(34), colour=draw.MUTED,
                      align="center" if m.portrait else "left")
        if app.mode == "transaction":
            # Information, not an invitation: plain text with no band, so it does not
            # look like a button nobody can press (issue 9).
            pygame.draw.line(surface, draw.BORDER, bottom.topleft, bottom.topright,
                             max(1, m.px(2)))
            draw.text(surface, app.fonts, t("When the official has finished serving you, "
                                            "this screen will ask for your rating"),
                      bottom.inflate(-2 * m.margin, -m.px(8)), size=m.px(30),
                      colour=draw.MUTED)
        else:
            pygame.draw.rect(surface, draw.BRAND, bottom, border_radius=m.px(18))
            draw.text(surface, app.fonts, t("Touch the screen to rate our service"),
                      bottom.inflate(-2 * m.margin, -m.margin), size=m.px(40), bold=True,
                      colour=draw.WHITE)
        self.targets = [lang]

    def on_background(self, pos) -> None:
        self.app.start_rating()

    def on_target(self, name: str) -> None:
        if name == "lang":
            self.app.toggle_language()

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= self.app.scale:
            self.app.rate_position(int(char) - 1, f"key {char}")
        elif key in (pygame.K_RETURN, pygame.K_SPACE):
            self.app.start_rating()

    def on_button(self, index: int) -> None:
        self.app.rate_position(index, f"button {index + 1}")


class Rating(Screen):
    """The faces with words, best first."""
    name = "rating"

    @property
    def timeout(self) -> float | None:  # type: ignore[override]
        return self.app.flow.transaction_timeout if self.app.mode == "transaction" else None

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        official = app.on_duty()
        title = (t("How satisfied are you with {name}?", name=official.name) if official
                 else t("How satisfied are you with our service?"))
        targets = self._header(surface, m, title)
        band_h = self.band_bottom
        area = pygame.Rect(m.margin, band_h + m.gap, m.w - 2 * m.margin,
                           m.h - band_h - m.gap - m.margin)
        dossier = app.transaction_dossier()
        if dossier:
            info, area = stack(area, m.px(34), 1.0, gap=m.px(6))
            draw.text(surface, app.fonts, t("Dossier {code}", code=dossier), info,
                      size=m.px(24), colour=draw.MUTED)
        levels = app.levels
        n = len(levels)
        colours = draw.FACE_COLOURS[n]
        cells = grid(area, n, 1, m.gap) if m.portrait else grid(area, 1, n, m.gap)
        for i, (level, cell) in enumerate(zip(levels, cells)):
            pygame.draw.rect(surface, (246, 247, 249), cell, border_radius=m.px(18))
            pygame.draw.rect(surface, draw.BORDER, cell, width=max(2, m.px(2)),
                             border_radius=m.px(18))
            label = app.label(level)
            if m.portrait:
                r = int(min(cell.h * 0.4, cell.w * 0.2))
                center = (cell.x + m.px(16) + r, cell.centery)
                words = pygame.Rect(center[0] + r + m.px(16), cell.y, cell.right -
                                    center[0] - r - m.px(28), cell.h)
                align = "left"
            else:
                words_h = int(cell.h * 0.3)
                r = int(min(cell.w * 0.42, (cell.h - words_h) * 0.44))
                center = (cell.centerx, cell.y + (cell.h - words_h) // 2 + m.px(4))
                words = pygame.Rect(cell.x + m.px(6), cell.bottom - words_h, cell.w - m.px(12),
                                    words_h - m.px(6))
                align = "center"
            draw.face(surface, center, r, colours[i], draw.mood_for(level.score, n))
            draw.text(surface, app.fonts, label, words, size=m.px(30), bold=True, align=align)
            targets.append(Target(f"score:{level.score}", cell))
        self.targets = targets

    def on_target(self, name: str) -> None:
        if name == "lang":
            self.app.toggle_language()
        elif name.startswith("score:"):
            self.app.rate(int(name.split(":")[1]))

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= self.app.scale:
            self.app.rate_position(int(char) - 1, f"key {char}")
        elif key == pygame.K_ESCAPE:
            self.app.go("idle")

    def on_button(self, index: int) -> None:
        self.app.rate_position(index, f"button {index + 1}")


class Reasons(Screen):
    """After a low score: what was wrong (several may be ticked), or skip."""
    name = "reasons"

    def enter(self, **params) -> None:
        self.chosen: list[str] = []

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        targets = self._header(surface, m, t("What was not right? Choose one or more."))
        top = max(self.band_bottom, targets[0].rect.bottom + m.margin) + m.gap
        area = pygame.Rect(m.margin, top, m.w - 2 * m.margin, m.h - top - m.margin)
        reasons = app.low_reasons
        # Two columns, so the longest reason ("Thu phí ngoài quy định, gây phiền hà", the
        # most serious) keeps a readable size; landscape puts Skip/Done in a column on
        # the right to leave the chips the height.
        cols = 2
        if m.portrait:
            chips_area, bar = stack(area, 1.0, max(m.min_target, m.px(84)), gap=m.gap)
            skip, done = row(bar, 1.0, 1.0, gap=m.gap * 2)
        else:
            chips_area, bar = row(area, 1.0, m.px(150), gap=m.gap)
            done, skip = stack(bar, 1.0, 1.0, gap=m.gap * 2)
        rows = math.ceil(len(reasons) / cols)
        for reason, cell in zip(reasons, grid(chips_area, rows, cols, m.px(8))):
            draw.chip(surface, app.fonts, cell, app.label(reason), reason.code in self.chosen,
                      size=m.px(26), radius=m.px(14))
            targets.append(Target(f"reason:{reason.code}", cell))
        draw.button(surface, app.fonts, skip, t("Skip"), size=m.px(30), radius=m.px(16))
        draw.button(surface, app.fonts, done, t("Done"), primary=True, size=m.px(30),
                    radius=m.px(16))
        targets += [Target("skip", skip), Target("done", done)]
        self.targets = targets

    def on_target(self, name: str) -> None:
        if name == "lang":
            self.app.toggle_language()
        elif name.startswith("reason:"):
            code = name.split(":", 1)[1]
            if code in self.chosen:
                self.chosen.remove(code)
            else:
                self.chosen.append(code)
            self.app.save_reasons(list(self.chosen))  # a walk-away keeps what is ticked
            self.app.dirty = True
        elif name == "skip":
            self.app.finish_reasons([])
        elif name == "done":
            self.app.finish_reasons(list(self.chosen))

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= len(self.app.low_reasons):
            self.on_target(f"reason:{self.app.low_reasons[int(char) - 1].code}")
        elif key == pygame.K_RETURN:
            self.on_target("done")
        elif key == pygame.K_ESCAPE:
            self.on_target("skip")

    def on_button(self, index: int) -> None:
        # Buttons cannot tick reasons: a press here is a (new) rating, so a button-only
        # kiosk is never stuck on this screen; what was ticked is kept and sealed.
        self.app.rate_position(index, f"button {index + 1}")


class Keypad(Screen):
    """A big numeric keypad (phone number, technician PIN)."""
    max_digits = PHONE_MAX

    def enter(self, **params) -> None:
        self.digits = ""

    def _keypad(self, surface, m: Metrics, area: pygame.Rect, last: tuple[str, str]) -> list[Target]:
        targets = []
        keys = [str(d) for d in range(1, 10)] + [last[0], "0", last[1]]
        for key, cell in zip(keys, grid(area, 4, 3, m.px(10))):
            if not key:
                continue
            if key.isdigit():
                draw.button(surface, self.app.fonts, cell, key, size=m.px(44), radius=m.px(14),
                            fill=draw.WHITE)
                targets.append(Target(f"digit:{key}", cell))
            else:
                label = self.app.t(key)
                draw.button(surface, self.app.fonts, cell, label, size=m.px(26),
                            radius=m.px(14), primary=key in ("OK",))
                targets.append(Target(key.lower(), cell))
        return targets

    def type(self, digit: str) -> None:
        if len(self.digits) < self.max_digits:
            self.digits += digit
            self.app.dirty = True

    def on_target(self, name: str) -> None:
        if name == "lang":
            self.app.toggle_language()
        elif name.startswith("digit:"):
            self.type(name.split(":")[1])
        elif name == "delete":
            self.digits = self.digits[:-1]
            self.app.dirty = True

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit():
            self.type(char)
        elif key == pygame.K_BACKSPACE:
            self.on_target("delete")
        elif key == pygame.K_RETURN:
            self.on_target("ok")
        elif key == pygame.K_ESCAPE:
            self.on_target("cancel")


class Phone(Keypad):
    """An optional call-back number, with the consent sentence it is given under."""
    name = "phone"

    def consent_text(self) -> str:
        return self.app.t("If you enter a phone number, you agree that the commune office uses "
                          "it only to call you back about this rating, and deletes it after "
                          "{days} days.", days=self.app.contact_retention_days)

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        targets = self._header(surface, m, t("May we call you back?"))
        top = max(self.band_bottom, targets[0].rect.bottom + m.margin) + m.gap
        area = pygame.Rect(m.margin, top, m.w - 2 * m.margin, m.h - top - m.margin)
        if m.portrait:  # the keypad just big enough, the consent sentence the rest
            consent, number, pad, bar = stack(area, 1.0, m.px(64), 4 * m.min_target + 3 *
                                              m.px(10), m.min_target, gap=m.gap)
        else:
            left, pad = row(area, 0.55, 0.45, gap=m.px(20))
            consent, number, bar = stack(left, 1.0, m.px(84), max(m.min_target, m.px(84)),
                                         gap=m.gap)
        draw.text(surface, app.fonts, self.consent_text(), consent, size=m.px(26),
                  align="left")
        pygame.draw.rect(surface, draw.WHITE, number, border_radius=m.px(10))
        pygame.draw.rect(surface, draw.BORDER, number, width=m.px(3), border_radius=m.px(10))
        shown = self.digits or t("Enter your phone number")
        draw.text(surface, app.fonts, shown, number.inflate(-m.px(20), -m.px(8)),
                  size=m.px(44 if self.digits else 28), bold=bool(self.digits),
                  colour=draw.INK if self.digits else draw.MUTED)
        no, send = row(bar, 1.0, 1.0, gap=m.gap)
        draw.button(surface, app.fonts, no, t("No, thank you"), size=m.px(28), radius=m.px(16))
        ready = len(self.digits) >= PHONE_MIN
        draw.button(surface, app.fonts, send, t("Send"), primary=ready, size=m.px(30),
                    radius=m.px(16), colour=None if ready else draw.MUTED)
        targets += [Target("no", no), Target("send", send)]
        targets += self._keypad(surface, m, pad, ("Delete", ""))
        self.targets = targets

    def on_target(self, name: str) -> None:
        if name == "no" or name == "cancel":
            self.app.finish_contact(None, "")
        elif name in ("send", "ok"):
            if len(self.digits) >= PHONE_MIN:
                self.app.finish_contact(self.digits, self.consent_text())
        else:
            super().on_target(name)

    def on_button(self, index: int) -> None:
        self.app.rate_position(index, f"button {index + 1}")  # as on the reasons screen


class Thanks(Screen):
    name = "thanks"
    citizen = True

    def enter(self, low: bool = False, contact: bool = False, **params) -> None:
        self.low = low
        self.contact = contact
        self.until = self.app.clock() + self.app.flow.thanks_seconds
        self.lit = False

    def next_tick(self) -> float | None:
        return self.until if self.lit else min(self.until, self.app.cooldown_until)

    def tick(self, now: float) -> None:
        if not self.lit and now >= self.app.cooldown_until:
            self.lit = True  # the cooldown is over: the next citizen's press counts
            self.app.lights(self.app.can_rate())
        if now >= self.until:
            self.app.go("idle")

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        pic, words = stack(m.inner, 0.5, 0.5, gap=m.gap)
        r = min(pic.w, pic.h) // 2 - m.px(8)
        pygame.draw.circle(surface, draw.FACE_COLOURS[3][0], pic.center, r)
        box = pygame.Rect(0, 0, r * 1.2, r * 1.2)
        box.center = pic.center
        draw.tick(surface, box, draw.WHITE)
        big, small = stack(words, 0.5, 0.5)
        draw.text(surface, app.fonts, t("Thank you!"), big, size=m.px(64), bold=True,
                  colour=draw.BRAND)
        more = t("Your rating has been recorded.")
        if self.low:  # a reply is promised only to who left a number (issue 9)
            more += "\n" + (t("The commune will look into it and call you back.")
                            if self.contact else t("The commune will look into your feedback."))
        draw.text(surface, app.fonts, more, small, size=m.px(32), valign="top")
        self.targets = []

    def on_background(self, pos) -> None:
        self.app.ignore("touch", "thank-you screen")  # a tap here starts no rating

    def on_button(self, index: int) -> None:
        # The next citizen's press (ignored, with a log line, during the cooldown).
        self.app.rate_position(index, f"button {index + 1}")

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= self.app.scale:
            self.app.rate_position(int(char) - 1, f"key {char}")


class OutOfOrder(Screen):
    """The failsafe: something is wrong; say so plainly and retry now and then."""
    name = "out_of_order"
    timeout = 0
    retry_every = 30.0

    def enter(self, **params) -> None:
        self.detail = str(params.get("detail", ""))
        self.retry_at = self.app.clock() + self.retry_every

    def next_tick(self) -> float | None:
        return self.retry_at

    def tick(self, now: float) -> None:
        if now >= self.retry_at:
            self.retry_at = now + self.retry_every
            self.app.recover()

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.FAULT_BG)
        pic, words = stack(m.inner, 0.45, 0.55, gap=m.gap)
        s = min(pic.w, pic.h) * 0.9
        cx, cy = pic.center
        tri = [(cx, cy - s / 2), (cx + s * 0.56, cy + s / 2), (cx - s * 0.56, cy + s / 2)]
        pygame.draw.polygon(surface, (250, 190, 40), tri)
        bar = pygame.Rect(0, 0, s * 0.1, s * 0.45)
        bar.midtop = (cx, cy - s * 0.22)
        pygame.draw.rect(surface, draw.INK, bar, border_radius=4)
        pygame.draw.circle(surface, draw.INK, (cx, cy + s * 0.36), s * 0.065)
        big, small = stack(words, 0.45, 0.55)
        draw.text(surface, app.fonts, t("Temporarily out of order"), big, size=m.px(52),
                  bold=True, colour=draw.WHITE)
        draw.text(surface, app.fonts, t("Please tell the official at the counter."), small,
                  size=m.px(32), colour=draw.WHITE, valign="top")
        self.targets = []


class Pin(Keypad):
    """The technician's PIN; a wrong one goes back to idle without a hint."""
    name = "pin"
    timeout = 20.0
    max_digits = 12
    citizen = False

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        inner = m.inner
        if m.portrait:
            head, pad = stack(inner, 0.3, 0.7, gap=m.gap)
        else:
            head, pad = row(inner, 0.45, 0.55, gap=m.px(20))
        title, dots = stack(head, 0.5, 0.5, gap=m.gap)
        draw.text(surface, app.fonts, t("Technician PIN"), title, size=m.px(40), bold=True)
        r = m.px(12)
        for i in range(len(self.digits)):
            x = dots.centerx + (i - (len(self.digits) - 1) / 2) * r * 3
            pygame.draw.circle(surface, draw.INK, (x, dots.y + r * 2), r)
        self.targets = self._keypad(surface, m, pad, ("Cancel", "OK"))

    def on_target(self, name: str) -> None:
        if name == "cancel":
            self.app.go("idle")
        elif name == "ok":
            self.app.check_pin(self.digits)
        else:
            super().on_target(name)


class Tech(Screen):
    """The technician's menu: health at a glance, duty sign-in/out, hardware tests."""
    name = "tech"
    timeout = 120.0
    citizen = False

    refresh = 2.0  # seconds: keep the figures fresh while the menu is open

    def enter(self, **params) -> None:
        self.info = self.app.tech_info()
        self.refresh_at = self.app.clock() + self.refresh

    def next_tick(self) -> float | None:
        return self.refresh_at

    def tick(self, now: float) -> None:
        self.refresh_at = now + self.refresh
        self.info = self.app.tech_info()
        self.app.dirty = True

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        inner = m.inner
        if m.portrait:
            left, right = stack(inner, 0.42, 0.58, gap=m.gap)
        else:
            left, right = row(inner, 0.5, 0.5, gap=m.px(20))
        lines = [t("Technician menu")] + self.info["lines"]
        boxes = stack(left, *([1.0] * len(lines)), gap=m.px(4))
        for i, (line, box) in enumerate(zip(lines, boxes)):
            draw.text(surface, app.fonts, line, box, size=m.px(30 if i == 0 else 19),
                      bold=i == 0, align="left", colour=draw.BRAND if i == 0 else draw.INK)
        names = [(f"signin:{o.id}", f"{t('Sign in')}: {o.name}") for o in self.info["roster"][:6]]
        actions = names + [("signout", t("Sign out")), ("sound", t("Test sound")),
                           ("lights", t("Test lights")), ("close", t("Close"))]
        cols = 2
        rows = math.ceil(len(actions) / cols)
        self.targets = []
        for (name, label), cell in zip(actions, grid(right, rows, cols, m.px(8))):
            draw.button(surface, app.fonts, cell, label, size=m.px(20), radius=m.px(10),
                        primary=name == "close")
            self.targets.append(Target(name, cell, small_ok=True))

    def on_target(self, name: str) -> None:
        app = self.app
        if name.startswith("signin:"):
            app.sign_in(name.split(":", 1)[1])
        elif name == "signout":
            app.sign_out()
        elif name == "sound":
            app.sound.play("thanks")
        elif name == "lights":
            app.test_lights()
        elif name == "close":
            app.go("idle")
            return
        self.info = app.tech_info()
        app.dirty = True

    def on_button(self, index: int) -> None:
        self.info = self.app.tech_info()
        self.app.dirty = True

    def on_key(self, key: int, char: str) -> None:
        if key == pygame.K_ESCAPE:
            self.app.go("idle")


class Survey(Screen):
    """The SIPAS survey after the rating (issue 12): one question per screen, the same
    big faces as the rating, and "Bỏ qua" (skip) to stop at any point. Targets are
    ``answer:LEVEL`` and ``skip``; buttons and keys 1-5 choose a level, best first."""
    name = "survey"

    def enter(self, index: int = 0, **params) -> None:
        self.index = index

    def draw(self, surface: pygame.Surface) -> None:
        app, m, t = self.app, Metrics(surface.get_size()), self.app.t
        surface.fill(draw.WHITE)
        survey = app.survey
        questions = survey.questions if survey else []
        total = len(questions)
        targets = self._header(surface, m, t(
            "Question {n} of {total}: your opinion helps the commune serve better",
            n=min(self.index + 1, total), total=total))
        top = max(self.band_bottom, targets[0].rect.bottom + m.margin) + m.gap
        area = pygame.Rect(m.margin, top, m.w - 2 * m.margin, m.h - top - m.margin)
        if m.portrait:
            question, faces, bar = stack(area, m.px(150), 1.0, max(m.min_target, m.px(84)),
                                         gap=m.gap)
            skip = bar
        else:
            question, rest = stack(area, m.px(96), 1.0, gap=m.gap)
            faces, skip = row(rest, 1.0, m.px(150), gap=m.gap)
        if self.index < total:
            draw.text(surface, app.fonts, app.label(questions[self.index]), question,
                      size=m.px(34), bold=True, align="left", colour=draw.BRAND)
        levels = app.survey_levels
        n = len(levels)
        colours = draw.FACE_COLOURS[n]
        cells = grid(faces, n, 1, m.px(8)) if m.portrait else grid(faces, 1, n, m.px(8))
        for i, (level, cell) in enumerate(zip(levels, cells)):
            pygame.draw.rect(surface, (246, 247, 249), cell, border_radius=m.px(18))
            pygame.draw.rect(surface, draw.BORDER, cell, width=max(2, m.px(2)),
                             border_radius=m.px(18))
            if m.portrait:
                r = int(min(cell.h * 0.4, cell.w * 0.2))
                center = (cell.x + m.px(16) + r, cell.centery)
                words = pygame.Rect(center[0] + r + m.px(16), cell.y,
                                    cell.right - center[0] - r - m.px(28), cell.h)
                align = "left"
            else:
                words_h = int(cell.h * 0.34)
                r = int(min(cell.w * 0.4, (cell.h - words_h) * 0.44))
                center = (cell.centerx, cell.y + (cell.h - words_h) // 2 + m.px(4))
                words = pygame.Rect(cell.x + m.px(6), cell.bottom - words_h,
                                    cell.w - m.px(12), words_h - m.px(6))
                align = "center"
            draw.face(surface, center, r, colours[i], draw.mood_for(level.score, n))
            draw.text(surface, app.fonts, app.label(level), words, size=m.px(28), bold=True,
                      align=align)
            targets.append(Target(f"answer:{level.score}", cell))
        draw.button(surface, app.fonts, skip, t("Skip"), size=m.px(30), radius=m.px(16))
        targets.append(Target("skip", skip))
        self.targets = targets

    def on_target(self, name: str) -> None:
        if name == "lang":
            self.app.toggle_language()
        elif name.startswith("answer:"):
            self.app.answer(self.index, int(name.split(":")[1]))
        elif name == "skip":
            self.app.finish_survey()

    def on_key(self, key: int, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= len(self.app.survey_levels):
            self.app.answer_position(self.index, int(char) - 1, f"key {char}")
        elif key in (pygame.K_ESCAPE, pygame.K_RETURN):
            self.on_target("skip")

    def on_button(self, index: int) -> None:
        # A button-only kiosk answers with its buttons, best level first, as it rates.
        self.app.answer_position(self.index, index, f"button {index + 1}")


SCREENS = (Idle, Rating, Reasons, Phone, Survey, Thanks, OutOfOrder, Pin, Tech)
