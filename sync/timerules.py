"""Time plausibility: the one rule set both ends apply to every time field (issue 8).

A Pi has no real-time clock, so a record's wall time (``created_at``, a status's
``at``) is trusted only when the kiosk says its clock was synchronised, and ``mono``
(seconds since boot) is what places everything else. These rules say which values can
be true at all, judged against the server's clock at receipt and against what is
already known of the same boot:

* a synchronised wall time must lie between the product's epoch and the server's
  clock at receipt plus ``AHEAD_TOLERANCE``;
* ``mono`` must be a possible uptime: at most ``MAX_UPTIME``, and the boot it implies
  (receipt minus ``mono``) must not have started before the product's epoch;
* a synchronised reading puts the boot's start at ``wall - mono``: that start must lie
  in the product's range too, and must agree with the boot's other evidence (a boot
  cannot start after a record of it was received, nor a record be made before its boot
  started), within ``AHEAD_TOLERANCE``.

An unsynchronised wall time is expected to be wrong (1970, 2001, anything): it is never
judged, only kept as sent. What fails is rejected with one of ``REASONS``.

Pure functions with no I/O: the kiosk calls them before it claims a synchronised clock
(``kiosk/clock.py``), the server at the door (``sync/contract.py``, ``server/ingest/clock.py``).
"""

from __future__ import annotations

import math

PRODUCT_EPOCH = 1704067200.0   # 2024-01-01T00:00Z: no rating of this product is older
PRODUCT_END = 4102444800.0     # 2100-01-01T00:00Z: past every date a page or export handles
AHEAD_TOLERANCE = 3600.0       # two NTP-synchronised clocks agree to well under a second;
                               # an hour leaves room for a server whose NTP lags
MAX_UPTIME = 5 * 365 * 86400.0  # a kiosk up five years without a reboot is not plausible

# Reason codes, as they appear in acks, ``rejections`` and ``server stats``.
TIME_FUTURE = "time-future"              # synchronised time after the server's clock
TIME_BEFORE_EPOCH = "time-before-epoch"  # synchronised time (or its boot) before 2024
MONO_IMPLAUSIBLE = "mono-implausible"    # uptime too long, or boot before the epoch
BOOT_CONTRADICTION = "boot-contradiction"  # disagrees with the boot's other evidence
SERVER_CLOCK = "server-clock"            # the server's own clock is implausible
REASONS = (TIME_FUTURE, TIME_BEFORE_EPOCH, MONO_IMPLAUSIBLE, BOOT_CONTRADICTION)

Verdict = tuple[str, str] | None  # (reason, detail) when a rule fails, else None


def in_range(ts: float) -> bool:
    """True if ``ts`` is a date the product can hold (reports, pages, SQLite's date())."""
    return math.isfinite(ts) and PRODUCT_EPOCH <= ts < PRODUCT_END


def clamp(ts: float, received_at: float) -> float:
    """Force a placement into the product's range and no later than receipt allows.
    The rules above make this a no-op for anything admitted; it is the last guard."""
    upper = min(PRODUCT_END - 1, max(received_at, PRODUCT_EPOCH) + AHEAD_TOLERANCE)
    if not math.isfinite(ts):
        return upper
    return min(max(ts, PRODUCT_EPOCH), upper)


def server_clock_ok(now: float) -> bool:
    """The server judges kiosks by its own clock; one before the epoch judges nothing."""
    return in_range(now)


def plausible_synced_wall(wall: float) -> bool:
    """Kiosk side: may a clock reading be claimed as synchronised? (No server clock to
    compare with, so only the product's range.)"""
    return in_range(wall)


def mono_rule(mono: float, received_at: float) -> Verdict:
    if not math.isfinite(mono) or mono < 0 or mono > MAX_UPTIME:
        return MONO_IMPLAUSIBLE, f"mono {mono!r} s is not a possible uptime"
    if received_at - mono < PRODUCT_EPOCH:
        return MONO_IMPLAUSIBLE, f"mono {mono:.0f} s puts the boot before the product's epoch"
    return None


def synced_rule(wall: float, mono: float, received_at: float) -> Verdict:
    if not math.isfinite(wall) or wall > received_at + AHEAD_TOLERANCE:
        return TIME_FUTURE, f"synchronised time {wall!r} is {wall - received_at:.0f} s ahead"
    if wall < PRODUCT_EPOCH:
        return TIME_BEFORE_EPOCH, f"synchronised time {wall!r} is before the epoch"
    if wall - mono < PRODUCT_EPOCH:
        return TIME_BEFORE_EPOCH, f"boot start {wall - mono:.0f} is before the epoch"
    return None


def reading_rule(wall: float, synced: bool, mono: float, received_at: float) -> Verdict:
    """One record's or status's own time fields, against the server's clock."""
    return mono_rule(mono, received_at) or (
        synced_rule(wall, mono, received_at) if synced else None)


def boot_rule(known_synced: float | None, known_bound: float | None,
              synced: float | None, bound: float | None) -> Verdict:
    """New evidence of a boot's start against what is known of it.

    ``synced``: the exact start a synchronised reading gives (wall - mono);
    ``bound``: the upper bound receipt gives (received - mono)."""
    if synced is not None and known_bound is not None and \
            synced > known_bound + AHEAD_TOLERANCE:
        return BOOT_CONTRADICTION, (f"boot start {synced:.0f} is after an earlier record "
                                    f"of it was received ({known_bound:.0f})")
    if bound is not None and known_synced is not None and \
            bound < known_synced - AHEAD_TOLERANCE:
        return BOOT_CONTRADICTION, (f"mono puts the boot {known_synced - bound:.0f} s "
                                    "before its synchronised start")
    if synced is not None and known_synced is not None and \
            abs(synced - known_synced) > AHEAD_TOLERANCE:
        return BOOT_CONTRADICTION, (f"boot start {synced:.0f} differs from the known "
                                    f"{known_synced:.0f}")
    if synced is not None and bound is not None and synced > bound + AHEAD_TOLERANCE:
        return TIME_FUTURE, "made after it was received"
    return None
