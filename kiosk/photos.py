"""Officials' photos on the kiosk: fetched over HTTP by the sync process, cached in a
folder next to the outbox, shown by the UI from that folder only.

The UI never touches the network (ARCHITECTURE.md), so :class:`PhotoFetcher` runs in
``hailong sync run``: whenever the stored config changes (and again later while a
photo is missing) it downloads what the config names. A photo is cached under a hash
of its URL; the server's URLs change with the photo's content, so a cached file never
goes stale and a server that is gone costs nothing: the cache still answers.
Files are written whole (temp file, fsync, rename), so a power cut leaves either the
old state or the new photo, never half a JPEG.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path

import requests

from sync import contract

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 2**20
SIGNATURES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}


def cache_folder(outbox_path: str | os.PathLike) -> Path:
    return Path(outbox_path).parent / "photos"


def photo_path(config, official: contract.Official | None) -> Path | None:
    """For the UI (``kiosk/ui/app.py``): the cached photo of ``official`` for the kiosk
    whose loaded config is ``config``, or None. Reads the cache folder only."""
    return PhotoCache(cache_folder(config.store.path)).photo_path(official)


class PhotoCache:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _stem(self, url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()[:32]

    def cached(self, url: str) -> Path | None:
        stem = self._stem(url)
        for suffix in (".jpg", ".png"):
            path = self.folder / (stem + suffix)
            if path.is_file():
                return path
        return None

    def photo_path(self, official: contract.Official | None) -> Path | None:
        """The cached photo file of ``official``, or None (no photo, or not fetched)."""
        if official is None or not official.photo:
            return None
        return self.cached(official.photo)

    def fetch(self, config: contract.KioskConfig, *, session: requests.Session | None = None,
              timeout: float = 10.0) -> dict[str, int]:
        """Download every photo ``config`` names that is not cached; drop cached
        photos it no longer names. Returns counts: fetched, cached, failed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        http = session or requests
        counts = {"fetched": 0, "cached": 0, "failed": 0}
        wanted: set[str] = set()
        for official in config.officials:
            if not official.photo:
                continue
            wanted.add(self._stem(official.photo))
            if self.cached(official.photo):
                counts["cached"] += 1
                continue
            try:
                self._download(http, official.photo, timeout)
                counts["fetched"] += 1
            except (requests.RequestException, ValueError, OSError) as e:
                counts["failed"] += 1
                log.warning("photo of %s not fetched from %s: %s", official.id,
                            official.photo, e)
        if not counts["failed"]:  # only tidy up when the new set is complete
            for path in self.folder.iterdir():
                if path.stem not in wanted or path.suffix == ".tmp":
                    path.unlink(missing_ok=True)
        return counts

    def _download(self, http, url: str, timeout: float) -> Path:
        if not url.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        with http.get(url, timeout=timeout, stream=True) as response:
            response.raise_for_status()
            data = b""
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
        suffix = next((s for sig, s in SIGNATURES.items() if data.startswith(sig)), None)
        if suffix is None:
            raise ValueError("not a JPEG or PNG image")
        final = self.folder / (self._stem(url) + suffix)
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(final)
        return final


class PhotoFetcher:
    """Background thread in the sync process: keeps the cache in step with the config
    the uplink stores. Opens its own outbox connection (one per thread)."""

    def __init__(self, outbox_path: str | os.PathLike, *, interval: float = 5.0,
                 retry_after: float = 60.0):
        self.outbox_path = Path(outbox_path)
        self.cache = PhotoCache(cache_folder(outbox_path))
        self.interval = interval
        self.retry_after = retry_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_counts: dict[str, int] | None = None

    def start(self) -> PhotoFetcher:
        self._thread = threading.Thread(target=self._run, name="photo-fetcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        from sync.outbox import Outbox
        done_revision, next_try, first = None, 0.0, True
        with requests.Session() as session, Outbox(self.outbox_path, check=False) as outbox:
            while not self._stop.wait(0 if first else self.interval):
                first = False
                try:
                    config = outbox.config()
                except Exception:  # the UI may be moving a corrupt outbox aside
                    log.exception("photo fetcher cannot read the config")
                    continue
                if config is None:
                    continue
                due = config.revision != done_revision or time.monotonic() >= next_try
                if not due:
                    continue
                counts = self.cache.fetch(config, session=session)
                self.last_counts = counts
                done_revision = config.revision
                next_try = (time.monotonic() + self.retry_after if counts["failed"]
                            else float("inf"))
