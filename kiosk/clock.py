"""What the kiosk knows about time.

A Raspberry Pi has no real-time clock: after a power cut without network its wall
clock restarts from the last saved time and is wrong until NTP syncs. So every
rating carries the wall time, whether the kernel considers it synchronised, the boot
id and the seconds since boot; the server can then place a rating made with a wrong
clock (see ``server.ingest.clock``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import secrets
import time
import uuid
from dataclasses import dataclass

from sync import timerules

_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"
_STA_UNSYNC = 0x0040  # <linux/timex.h>: set while the kernel clock is not synchronised


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: we only read `status`; the rest is padding
    # large enough for every Linux ABI (the kernel struct is 208 bytes on 64-bit).
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


def kernel_clock_synced() -> bool | None:
    """True/False from adjtimex(2), as ``timedatectl`` reports it; None if unknown."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != 5 and not (tx.status & _STA_UNSYNC)  # 5 = TIME_ERROR


def boot_id() -> str:
    try:
        with open(_BOOT_ID_FILE, encoding="ascii") as f:
            return str(uuid.UUID(f.read().strip()))
    except (OSError, ValueError):
        # Not Linux: a per-process id still lets the server group one run's records.
        return str(uuid.uuid4())


def since_boot() -> float:
    """Seconds since boot, counting suspend (CLOCK_BOOTTIME), as the server expects."""
    clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
    return time.clock_gettime(clock)


def uuid7(now: float | None = None) -> str:
    """A time-ordered UUID (RFC 9562 version 7): Unix ms, then 74 random bits."""
    ms = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    rand = secrets.randbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


@dataclass(frozen=True)
class ClockReading:
    wall: float
    synced: bool
    boot_id: str
    mono: float


class Clock:
    """Reads the clock facts for a record. ``assume`` overrides the kernel's
    synchronised flag ("synced"/"unsynced"), for tests and odd hardware."""

    def __init__(self, assume: str = "system", *, boot: str | None = None,
                 wall=time.time, mono=since_boot):
        # ``wall`` and ``mono`` are injectable so `hailong kiosk replay` can run a
        # 20-minute script on a simulated clock in seconds (issue 9).
        self.assume = assume
        self.boot_id = boot or boot_id()
        self.wall, self.mono = wall, mono

    def is_synced(self) -> bool:
        if self.assume != "system":
            return self.assume == "synced"
        return bool(kernel_clock_synced())

    def read(self) -> ClockReading:
        wall = self.wall()
        # The server refuses a "synchronised" time outside the product's range for good
        # (sync/timerules.py); such a clock is wrong whatever the kernel says, so the
        # record goes as unsynchronised and the server places it from boot and mono.
        synced = self.is_synced() and timerules.plausible_synced_wall(wall)
        return ClockReading(wall, synced, self.boot_id, self.mono())
