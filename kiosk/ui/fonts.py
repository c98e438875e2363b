"""Finding a font that covers Vietnamese, and proving it does.

pygame's built-in font (freesansbold) has no glyphs for most Vietnamese letters:
"Rất" and "Ủy" come out as boxes. So the kiosk asks fontconfig (``fc-match``) for
DejaVu Sans or Noto Sans, or uses the configured file, and at start-up renders
every UI string through :meth:`Fonts.missing`. That check uses ``pygame.freetype``:
its ``get_metrics`` returns ``None`` for a character the font lacks, whereas
``pygame.font.Font.metrics`` (SDL_ttf 2.20+, as in pygame 2.6) answers with the
metrics of the "missing glyph" box and so cannot tell.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pygame

from hailong.errors import HailongError

log = logging.getLogger(__name__)

# Tried in order through fontconfig; ":lang=vi" makes fc-match prefer a face with
# Vietnamese coverage. Then the Debian paths, for a system without fc-match.
CANDIDATES = ("DejaVu Sans:lang=vi", "Noto Sans:lang=vi")
KNOWN_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")


class FontError(HailongError, RuntimeError):
    """No usable font, or the font lacks glyphs the screens need."""


def _fc_match(pattern: str) -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out and Path(out).is_file() else None


def find_font(configured: str | Path | None = None) -> tuple[Path, Path]:
    """(regular, bold) font files. A configured file must exist; bold falls back to it."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"[display] font: {path} does not exist")
        return path, path
    for pattern in CANDIDATES:
        regular = _fc_match(pattern)
        # fc-match always answers with *something*; accept only the family we asked for.
        family = pattern.split(":")[0].replace(" ", "").lower()
        if regular and family in regular.name.lower():
            bold = _fc_match(pattern.replace(":lang", ":bold:lang")) or regular
            return regular, bold
    for known in KNOWN_PATHS:
        if Path(known).is_file():
            bold = Path(known.replace(".ttf", "-Bold.ttf").replace("-Regular-Bold", "-Bold"))
            return Path(known), bold if bold.is_file() else Path(known)
    raise FontError("no font with Vietnamese glyphs found: install fonts-dejavu-core or "
                    "fonts-noto-core, or set [display] font")


class Fonts:
    """Fonts by pixel size, cached; ``size`` is the cap height the layout asked for."""

    def __init__(self, regular: Path, bold: Path):
        if not pygame.font.get_init():
            pygame.font.init()
        self.regular, self.bold = regular, bold
        self.min_px = 10                      # set per screen by the app (min_text_mm)
        self.report: list[str] = []           # text that did not fit at min_px (layout check)

    @functools.lru_cache(maxsize=2)
    def cap_ratio(self) -> float:
        """Capital height over font size, for sizes in mm (DejaVu Sans: about 0.73)."""
        maxy = self.get(100).metrics("H")[0][3]
        return maxy / 100 if maxy else 0.73

    @functools.lru_cache(maxsize=64)
    def get(self, size: int, bold: bool = False) -> pygame.font.Font:
        return pygame.font.Font(str(self.bold if bold else self.regular), max(8, int(size)))

    def missing(self, texts: Iterable[str]) -> dict[str, str]:
        """Characters each font cannot draw, as {text: missing chars}; empty means all good."""
        import pygame.freetype

        if not pygame.freetype.get_init():
            pygame.freetype.init()
        out: dict[str, str] = {}
        for path in {self.regular, self.bold}:
            font = pygame.freetype.Font(str(path), 24)
            for text in texts:
                text = unicodedata.normalize("NFC", text)
                metrics = font.get_metrics(text)
                lacking = "".join(ch for ch, m in zip(text, metrics)
                                  if m is None and not ch.isspace())
                if lacking:
                    out[text] = "".join(sorted(set(out.get(text, "") + lacking)))
        return out

    def verify(self, texts: Iterable[str]) -> None:
        missing = self.missing(list(texts))
        if missing:
            sample = "; ".join(f"{t!r} lacks {m!r}" for t, m in list(missing.items())[:3])
            raise FontError(f"font {self.regular.name} cannot draw {len(missing)} UI "
                            f"strings ({sample}); set [display] font to one that covers Vietnamese")
