"""This device's instance id and the uplink's single-instance lock.

Two Pis installed from one bundle share a kiosk id, broker account and client id;
each then throws the other off the broker about once a second (issue 11). The
instance id is made once per device, beside the outbox (each Pi has its own), and
sent in every status, so the server can tell two devices apart and name the
duplicate. The lock (``<outbox>.uplink.lock``, held with ``flock`` for the uplink's
life) lets the doctor know a live uplink owns the broker session, so it reads the
uplink's state instead of connecting with the same account.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path


def device_instance(store_path: str | os.PathLike) -> str:
    """The id made once for this device; the first process to make it wins, and every
    process that starts at the same time (screen, uplink, doctor) reads that one."""
    path = Path(store_path).parent / "instance-id"
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = uuid.uuid4().hex[:12]
    # A whole file under a name of our own, then linked into place: link() fails if
    # the id exists already, so a racing process never sees half a file nor replaces
    # another's id (a shared ".tmp" name once crashed one of ten uplinks started at once).
    tmp = path.with_name(f".instance-id.{value}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        tmp.unlink()
    return value


def lock_path(store_path: str | os.PathLike) -> Path:
    return Path(f"{store_path}.uplink.lock")


class UplinkRunning(OSError):
    pass


def hold_uplink_lock(store_path: str | os.PathLike) -> int:
    """Take the lock for this process's life; raises UplinkRunning if another has it."""
    fd = os.open(lock_path(store_path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UplinkRunning(f"another uplink already runs for {store_path}") from None
    return fd


def uplink_running(store_path: str | os.PathLike) -> bool:
    """True if a live uplink holds the lock (a crashed one releases it)."""
    path = lock_path(store_path)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
