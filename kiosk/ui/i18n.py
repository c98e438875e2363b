"""The kiosk's words in Vietnamese (default) and English, through gettext catalogs.

Message ids are English; the catalogs live in ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``
and are compiled to ``.mo`` with Babel (``python -m kiosk.ui.i18n``; the ``.mo`` files
are committed so a Pi needs no build step, and a test fails when they are stale).
Rating levels and reasons come with both languages from ``hailong.domain`` or from
the server's config, so they are not in the catalogs.
"""

from __future__ import annotations

import gettext
import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "kiosk"
LANGUAGES = ("vi", "en")
# What the language switch says: each language's own name.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def N_(msgid: str) -> str:
    """Marks a message id for the catalogs without translating it here."""
    return msgid


# Every message the screens use (a test checks each is in every catalog, and the
# start-up font check renders each one).
MSGIDS: tuple[str, ...] = (
    N_("Counter {counter}"),
    N_("Official on duty"),
    N_("Touch the screen to rate our service"),
    N_("No official signed in at this counter"),
    N_("When the official has finished serving you, this screen will ask for your rating"),
    N_("How satisfied are you with {name}?"),
    N_("How satisfied are you with our service?"),
    N_("Touch a face"),
    N_("Dossier {code}"),
    N_("What was not right? Choose one or more."),
    N_("Skip"),
    N_("Question {n} of {total}: your opinion helps the commune serve better"),
    N_("Done"),
    N_("May we call you back?"),
    N_("If you enter a phone number, you agree that the commune office uses it only to "
       "call you back about this rating, and deletes it after {days} days."),
    N_("Enter your phone number"),
    N_("No, thank you"),
    N_("Send"),
    N_("Delete"),
    N_("Thank you!"),
    N_("Your rating has been recorded."),
    N_("The commune will look into your feedback."),
    N_("Temporarily out of order"),
    N_("Please tell the official at the counter."),
    N_("Technician PIN"),
    N_("Cancel"),
    N_("OK"),
    N_("Technician menu"),
    N_("Kiosk {kiosk} · counter {counter} · version {version}"),
    N_("Backlog: {pending} waiting, {unsealed} unfinished, {rejected} rejected"),
    N_("Last ack from the server: {when}"),
    N_("Rejected by the server: {n}, last reason: {reason}"),
    N_("Broker: connected since {when}"),
    N_("Broker: NOT connected since {when} ({error})"),
    N_("Broker: no word from the uplink yet"),
    N_("never"),
    N_("Clock: {now} ({state})"),
    N_("synchronised"),
    N_("NOT synchronised"),
    N_("Last event: {event}"),
    N_("On duty: {name}"),
    N_("nobody"),
    N_("Sign in"),
    N_("Sign out"),
    N_("No roster from the server yet"),
    N_("Test sound"),
    N_("Test lights"),
    N_("Press any button to test it. Last input: {what}"),
    N_("Close"),
    N_("The commune will look into it and call you back."),
)


class Translator:
    """gettext for one language; ``t("Counter {counter}", counter="q1")`` formats too."""

    def __init__(self, lang: str = "vi"):
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} not one of {LANGUAGES}")
        self.lang = lang
        self._t = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)

    def __call__(self, msgid: str, **values) -> str:
        text = self._t.gettext(msgid)
        return text.format(**values) if values else text

    def has(self, msgid: str) -> bool:
        """True if the catalog translates ``msgid`` (English may equal its id)."""
        catalog = getattr(self._t, "_catalog", {})
        return msgid in catalog


_translators: dict[str, Translator] = {}


def translator(lang: str) -> Translator:
    if lang not in _translators:
        _translators[lang] = Translator(lang)
    return _translators[lang]


def compile_catalogs() -> list[Path]:
    """Compile every ``kiosk.po`` to ``kiosk.mo`` with Babel (a build-time tool)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for lang in LANGUAGES:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        mo = po.with_suffix(".mo")
        with open(mo, "wb") as f:
            write_mo(f, catalog)
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_catalogs():
        print(path, file=sys.stderr)
