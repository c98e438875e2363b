"""The kiosk technician PIN as a hash: made on the server, checked on the kiosk.

The server pushes only this hash in the kiosk's retained config (issue 8 item 8:
"never in clear"), so neither the broker nor anyone reading the kiosk's outbox sees
the PIN. PBKDF2-SHA256 from the standard library; the iteration count is kept low
enough for a Pi to check a try in well under a second, the attempt limit on the
kiosk (``kiosk/pinguard.py``) does the rest against guessing at the screen.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

ITERATIONS = 60_000
PIN_PATTERN = re.compile(r"\d{4,12}")


def valid_pin(pin: str) -> bool:
    return bool(PIN_PATTERN.fullmatch(pin))


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2-sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, hashed: str) -> bool:
    try:
        scheme, iterations, salt, digest = hashed.split("$")
        if scheme != "pbkdf2-sha256" or not 1 <= int(iterations) <= 10_000_000:
            return False
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
