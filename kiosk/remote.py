"""What the commune server tells this kiosk to show, as the UI reads it.

The uplink stores each validated, newer ``KioskConfig`` in the outbox (a bad push is
refused there and the last good one kept); this module only reads it, so it works
with no network and across restarts. The UI holds one :class:`RemoteConfig`, calls
:meth:`RemoteConfig.refresh` now and then (cheap: one indexed query) and rebuilds
its screens when it returns True: a new roster applies without a restart.

Until a config has arrived, the kiosk shows its own defaults (``[kiosk] scale``, no
named officials).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sync import contract

from .photos import PhotoCache, cache_folder

log = logging.getLogger(__name__)


class RemoteConfig:
    def __init__(self, outbox, *, default_scale: int = 4, photos: PhotoCache | None = None):
        self.outbox = outbox
        self.default_scale = default_scale
        self.photos = photos or PhotoCache(cache_folder(outbox.path))
        self.config: contract.KioskConfig | None = None
        self.refresh()

    @classmethod
    def from_config(cls, config, outbox) -> RemoteConfig:
        """From the kiosk's loaded config file and its open outbox."""
        return cls(outbox, default_scale=config.kiosk.scale)

    def refresh(self) -> bool:
        """Read the newest stored config; True if it differs from the one held."""
        row = self.outbox.db.execute("SELECT max(revision) FROM remote_config").fetchone()
        newest = row[0] if row else None
        if newest is None or (self.config and self.config.revision == newest):
            return False
        self.config = self.outbox.config()
        log.info("applying config revision %d from the server", self.config.revision)
        return True

    @property
    def revision(self) -> int | None:
        return self.config.revision if self.config else None

    @property
    def scale(self) -> int:
        return self.config.scale if self.config else self.default_scale

    @property
    def mode(self) -> str:
        return self.config.mode if self.config else "always"

    @property
    def counter_name(self) -> str:
        return self.config.counter_name if self.config else ""

    @property
    def officials(self) -> list[contract.Official]:
        return list(self.config.officials) if self.config else []

    @property
    def on_duty(self) -> contract.Official | None:
        return self.official(self.config.on_duty) if self.config else None

    def official(self, official_id: str | None) -> contract.Official | None:
        return next((o for o in self.officials if o.id == official_id), None)

    @property
    def low_reasons(self) -> list[contract.ReasonLabel] | None:
        """The server's reasons after a low rating; None: use the kiosk's own list."""
        return list(self.config.low_reasons) if self.config and self.config.low_reasons \
            else None

    @property
    def high_reasons(self) -> list[contract.ReasonLabel] | None:
        return list(self.config.high_reasons) if self.config and self.config.high_reasons \
            else None

    def photo_path(self, official: contract.Official | str | None) -> Path | None:
        """The cached photo of an official (or official id), or None: show initials."""
        if isinstance(official, str):
            official = self.official(official)
        return self.photos.photo_path(official)
