"""The kiosk's screens (pygame): a state machine of screens a citizen finishes in seconds.

``app.KioskApp`` owns the state machine and the one input handler; ``screens`` draws
each screen onto any ``Surface`` (so tests render under ``SDL_VIDEODRIVER=dummy``
and assert on pixels); ``layout`` scales everything to the screen; ``fonts`` finds
a font that covers Vietnamese; ``i18n`` holds the message catalogs.
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no greeting on stdout
