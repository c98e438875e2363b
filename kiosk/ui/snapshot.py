"""``hailong kiosk snapshot``: a PNG of what the running kiosk shows, on demand.

A kiosk without a display (the demo on a server, a Pi whose screen is broken) still
draws every frame to its surface. ``kiosk run`` writes its pid beside the outbox and
saves the current frame to ``snapshot.png`` there when it gets SIGUSR1; the command
sends the signal and copies the new file out. The kiosk's unit may write only its
state folder (``ProtectSystem=strict``), which is where the file goes.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from hailong.errors import HailongError


class SnapshotError(HailongError, RuntimeError):
    pass


def pid_path(store: str | os.PathLike) -> Path:
    return Path(f"{store}.kiosk.pid")


def png_path(store: str | os.PathLike) -> Path:
    return Path(store).parent / "snapshot.png"


def serve(app, store: str | os.PathLike) -> None:
    """In ``kiosk run``: answer SIGUSR1 with a snapshot at the next loop turn."""
    pid_path(store).write_text(f"{os.getpid()}\n")
    app.snapshot_to = None

    def wanted(*_):
        app.snapshot_to = png_path(store)
    signal.signal(signal.SIGUSR1, wanted)


def save(surface, path: Path) -> None:
    """Whole or not at all: the command copies the file as soon as it changes."""
    import pygame
    tmp = path.with_name(path.stem + ".part.png")  # pygame picks the format by suffix
    pygame.image.save(surface, str(tmp))
    os.replace(tmp, path)


def request(store: str | os.PathLike, out: str | os.PathLike, timeout: float = 20.0) -> Path:
    try:
        pid = int(pid_path(store).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        raise SnapshotError(f"no kiosk screen is running for {store} (start `hailong kiosk "
                            "run`, or `systemctl status hailong-kiosk`)") from None
    png = png_path(store)
    before = png.stat().st_mtime_ns if png.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if png.exists() and png.stat().st_mtime_ns != before:
            shutil.copyfile(png, out)  # complete: the kiosk renames it into place
            return Path(out)
        time.sleep(0.1)
    raise SnapshotError(f"the kiosk (pid {pid}) did not answer within {timeout:.0f} s")
