"""Broker faults a technician can act on: what went wrong, where, said at a bounded rate.

paho retries a failed connect by itself and keeps the reason to itself: the
``OSError`` of a refused port, a DNS failure or a TLS verification is caught in its
network thread and only a bare ``on_connect_fail(client, userdata)`` is called
(paho-mqtt 2.2 ``loop_forever``). That callback runs inside paho's ``except OSError``
block, so :func:`sys.exc_info` still holds the error there: :class:`LinkWatch` reads
it, turns it into one line naming the cause and ``host:port`` (and for TLS the names
the certificate holds against the name asked for), and logs it at once, then again
every ``repeat`` seconds while the same fault lasts (issue 11: the journal showed
nothing for 30 s). The owner reads :attr:`LinkWatch.fault` to write it where the
technician looks (the kiosk's outbox: technician menu, ``kiosk status``, the doctor).
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import sys
import tempfile
import threading
import time

log = logging.getLogger(__name__)

# A connection that is lost this soon after it was made, several times in a row, is
# being taken over: the broker hands the session to another client with the same id
# (mosquitto: ``use_username_as_clientid``), i.e. a second device with this identity.
TAKEOVER_SECONDS = 10.0
TAKEOVER_COUNT = 3


def certificate_names(host: str, port: int, timeout: float = 3.0) -> list[str]:
    """The DNS and IP names in the certificate ``host:port`` presents (unverified: only to
    say what it covers); empty if it cannot be read."""
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
        pem = ssl.DER_cert_to_PEM_cert(der)
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
            f.write(pem)
        try:
            # the standard library decodes a certificate only from a file, and only
            # through this helper (no third-party X.509 parser needed on the Pi)
            decoded = ssl._ssl._test_decode_cert(f.name)  # type: ignore[attr-defined]
        finally:
            os.unlink(f.name)
    except (OSError, ValueError, AttributeError):
        return []
    names = [value for kind, value in decoded.get("subjectAltName", ())
             if kind in ("DNS", "IP Address")]
    if not names:
        names = [v for rdn in decoded.get("subject", ()) for k, v in rdn if k == "commonName"]
    return names


_cert_names: dict[tuple[str, int], list[str]] = {}


def describe_error(err: BaseException | None, broker) -> str:
    """One line for a failed connect: the cause and ``host:port``."""
    where = f"{broker.host}:{broker.port}"
    if isinstance(err, ssl.SSLCertVerificationError):
        key = (broker.host, broker.port)
        # read once: a second handshake per retry is noise, and one that fails would
        # change the line and defeat the bounded rate
        names = _cert_names.get(key) or certificate_names(broker.host, broker.port)
        if names:
            _cert_names[key] = names
        covered = f"; the certificate names {', '.join(names)}" if names else ""
        return (f"TLS certificate verify failed for broker {where}: {err.verify_message}"
                f" (asked for {broker.host!r}{covered}); fix [broker] host or the "
                f"certificate, CA {broker.tls_ca}")
    if isinstance(err, ssl.SSLError):
        return (f"TLS handshake with broker {where} failed ({err.reason or err}); "
                "is this the broker's TLS port?")
    if isinstance(err, socket.gaierror):
        return (f"cannot resolve the broker's host name {broker.host!r} (DNS: "
                f"{err.strerror or err}); port {broker.port}")
    if isinstance(err, ConnectionRefusedError):
        return (f"broker {where} refused the connection: nothing listens there "
                "(broker stopped, or wrong host/port)")
    if isinstance(err, (socket.timeout, TimeoutError)):
        return (f"no answer from broker {where} (timeout): network down, firewall, "
                "or wrong address")
    if isinstance(err, ConnectionResetError) and broker.tls_ca:
        return (f"TLS handshake with broker {where} failed (connection reset); is this "
                "the broker's TLS port?")
    if isinstance(err, OSError):
        return f"cannot reach broker {where}: {err.strerror or err}"
    return f"cannot connect to broker {where}: {err or 'unknown error'}"


def describe_refusal(reason_code, broker) -> str:
    """One line for a CONNACK refusal (authorisation, bad credentials)."""
    who = broker.username or "(anonymous)"
    text = str(reason_code)
    hint = ("wrong password, or this account was removed: enrol again"
            if broker.username else "the broker needs a username and password")
    return f"broker {broker.host}:{broker.port} refused user {who!r}: {text} ({hint})"


class LinkWatch:
    """Attach to a paho client; logs each connection fault with its cause, at most once
    per ``repeat`` seconds while it lasts, and keeps the current one in ``fault``."""

    def __init__(self, client, broker, *, name: str, repeat: float = 60.0,
                 identity: str = ""):
        self.broker, self.name, self.repeat, self.identity = broker, name, repeat, identity
        self.fault: str | None = None
        self.connected_since: float | None = None
        self.takeovers = 0
        self._logged: tuple[str, float] | None = None
        self._lock = threading.Lock()
        client.on_connect_fail = self._on_connect_fail

    # paho's thread ------------------------------------------------------------------

    def _on_connect_fail(self, client, userdata) -> None:
        self.report(describe_error(sys.exc_info()[1], self.broker))

    def refused(self, reason_code) -> None:
        self.report(describe_refusal(reason_code, self.broker))

    def connected(self) -> None:
        with self._lock:
            self.connected_since = time.monotonic()
            if self.takeovers >= TAKEOVER_COUNT:
                return  # stays said until a connection lasts (see current())
            if self.fault:
                log.info("%s: connected to broker %s:%s again", self.name,
                         self.broker.host, self.broker.port)
            self.fault, self._logged = None, None

    def current(self) -> str | None:
        """The fault to show now. A take-over fault outlives the short connections in
        between (the technician must see it), until one lasts TAKEOVER_SECONDS."""
        with self._lock:
            since = self.connected_since
            if (self.takeovers and since is not None
                    and time.monotonic() - since >= TAKEOVER_SECONDS):
                self.takeovers, self.fault, self._logged = 0, None, None
            return self.fault

    def lost(self, reason_code) -> None:
        """A connection that was up went down."""
        since, self.connected_since = self.connected_since, None
        if since is None:  # never got a CONNACK: the refusal or connect error says more
            return
        where = f"{self.broker.host}:{self.broker.port}"
        if time.monotonic() - since < TAKEOVER_SECONDS:
            self.takeovers += 1
        else:
            self.takeovers = 0
        if self.takeovers >= TAKEOVER_COUNT:
            self.report(f"the broker at {where} keeps closing the connection right after it "
                        f"is made ({self.takeovers} times): another device is using this "
                        f"identity{' ' + self.identity if self.identity else ''} "
                        "(two kiosks installed from one bundle?)")
        else:
            self.report(f"lost the connection to broker {where}: {reason_code}")

    def report(self, text: str) -> None:
        with self._lock:
            now = time.monotonic()
            self.fault = text
            if self._logged and self._logged[0] == text and now - self._logged[1] < self.repeat:
                return
            self._logged = (text, now)
        log.error("%s: %s", self.name, text)
