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
    path = Path(store_path).parent / "instance-id"
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = uuid.uuid4().hex[:12]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.replace(tmp, path)
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
