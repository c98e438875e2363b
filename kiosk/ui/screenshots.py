"""``hailong kiosk screenshots``: every screen, rendered to PNG at chosen sizes.

The screens are drawn by the real app on an off-screen Surface, against a
throw-away outbox holding a sample roster, so the pictures in the docs are exactly
what a citizen sees. Each picture also gets a layout check (targets on screen, big
enough, not overlapping).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pygame

from sync import contract

from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.ui.app import KioskApp
from kiosk.ui.fonts import Fonts, find_font
from kiosk.ui.layout import SIZES, problems

SAMPLE = contract.KioskConfig(
    v=1, revision=1, counter_name="1 – Tư pháp, Hộ tịch", on_duty="cb-an",
    officials=[contract.Official(id="cb-an", name="Nguyễn Thị Ân",
                                 title="Công chức Tư pháp – Hộ tịch"),
               contract.Official(id="cb-binh", name="Trần Văn Bình",
                                 title="Công chức Địa chính – Xây dựng")])
SESSION = contract.Session(v=1, transaction="tx-1", official="cb-an", dossier="H12.34-251123-0042",
                           procedure="Đăng ký khai sinh", field="Hộ tịch")

# (file name, how to get there)
SCENES = ("idle", "rating", "rating-en", "rating-transaction", "rating-5", "reasons", "phone",
          "thanks", "out-of-order", "pin", "tech", "idle-transaction", "survey",
          "survey-last")


@dataclass
class Shot:
    scene: str
    size: tuple[int, int]
    path: Path
    problems: list[str]


def _stage(app: KioskApp, scene: str) -> None:
    app.go("idle")
    if scene == "rating":
        app.go("rating")
    elif scene == "rating-en":
        app.set_language("en")
        app.go("rating")
    elif scene == "rating-transaction":
        app.open_transaction(SESSION)
        app.go("rating")
    elif scene == "rating-5":
        app.remote = contract.KioskConfig(**{**_fields(SAMPLE), "scale": 5})
        app.go("rating")
    elif scene == "reasons":
        app.go("reasons")
        app.screen.chosen = ["long-wait", "unclear-guidance"]
    elif scene == "phone":
        app.go("phone")
        app.screen.digits = "0912345678"
    elif scene == "thanks":
        app.go("thanks", low=False)
    elif scene == "out-of-order":
        app.go("out_of_order", detail="sample")
    elif scene == "pin":
        app.go("pin")
        app.screen.digits = "1234"
    elif scene == "tech":
        app.go("tech")
    elif scene in ("survey", "survey-last"):  # issue 12: SIPAS survey mode
        from hailong import sipas
        app.remote = contract.KioskConfig(**{**_fields(SAMPLE), "survey": sipas.default_survey()})
        app.go("survey", index=0 if scene == "survey" else 4)
    elif scene == "idle-transaction":
        app.remote = contract.KioskConfig(**{**_fields(SAMPLE), "mode": "transaction"})
        app.go("idle")


def _fields(struct) -> dict:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}


def render_scene(config, scene: str, size: tuple[int, int], fonts: Fonts | None = None,
                 folder: Path | None = None) -> tuple[pygame.Surface, list[str]]:
    """Draw one scene on a fresh app; returns the surface and its layout problems."""
    pygame.font.init()
    fonts = fonts or Fonts(*find_font(config.display.font or None))
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(folder or tmp) / f"screenshots-{scene}.db"
        store.unlink(missing_ok=True)
        with Outbox(store) as outbox:
            outbox.save_config(SAMPLE)
            surface = pygame.Surface(size)
            app = KioskApp(config, outbox, surface, fonts=fonts)
            _stage(app, scene)
            app.render()
            # targets (on screen, big enough, apart) and text (never below the minimum)
            found = problems(app.screen.targets, size) + list(app.fonts.report)
            app.close()
        return surface, found


def take_screenshots(config_path, out: Path, sizes=SIZES, scenes=SCENES) -> list[Shot]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = load_kiosk_config(config_path, overrides={
            "store": {"path": str(Path(tmp) / "unused.db")}, "sound": {"enabled": False},
            "gpio": {"buttons": []}})
        pygame.font.init()
        fonts = Fonts(*find_font(config.display.font or None))
        shots = []
        for size in sizes:
            for scene in scenes:
                surface, found = render_scene(config, scene, size, fonts, Path(tmp))
                path = out / f"{scene}-{size[0]}x{size[1]}.png"
                pygame.image.save(surface, str(path))
                shots.append(Shot(scene, size, path, found))
    return shots
