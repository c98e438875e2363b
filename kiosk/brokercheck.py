"""One look at the broker with the kiosk's own settings, for ``hailong kiosk doctor``:
can it be reached, does TLS verify against the commune CA, are the credentials taken?

Each failure comes back as one line a technician can act on. The check connects with
the kiosk's username, and the broker names sessions by username
(``use_username_as_clientid``): it would throw a running uplink off, so the doctor
calls it only when no uplink runs (``sync/instance.py``) and otherwise reads the
state the uplink writes to the outbox.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class BrokerCheck:
    ok: bool
    detail: str


def check_broker(broker, timeout: float = 10.0) -> BrokerCheck:
    """``broker`` is the kiosk config's [broker] section."""
    where = f"{broker.host}:{broker.port}"
    if broker.tls_ca and not Path(broker.tls_ca).is_file():
        return BrokerCheck(False, f"tls_ca {broker.tls_ca} does not exist (copy ca.crt from "
                                  "the kiosk's bundle)")
    answer: dict = {}
    done = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hailong-doctor",
                         clean_session=True, protocol=mqtt.MQTTv311)
    if broker.username:
        client.username_pw_set(broker.username, broker.password or None)
    if broker.tls_ca:
        client.tls_set(ca_certs=broker.tls_ca, cert_reqs=ssl.CERT_REQUIRED)

    def on_connect(c, userdata, flags, reason_code, properties):
        answer["reason"] = reason_code
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *a: done.set()
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except ssl.SSLCertVerificationError as e:
        return BrokerCheck(False, f"TLS: {where} has a certificate {broker.tls_ca} does not "
                                  f"vouch for ({e.verify_message}); wrong CA or address")
    except ssl.SSLError as e:
        return BrokerCheck(False, f"TLS handshake with {where} failed ({e.reason}); is this "
                                  "the broker's TLS port?")
    except socket.gaierror:
        return BrokerCheck(False, f"cannot resolve the broker's name {broker.host!r}")
    except ConnectionResetError as e:
        if broker.tls_ca:  # a plain MQTT listener hangs up on a TLS hello
            return BrokerCheck(False, f"TLS handshake with {where} failed (connection reset); "
                                      "is this the broker's TLS port?")
        return BrokerCheck(False, f"cannot reach the broker at {where}: {e.strerror or e}")
    except OSError as e:
        return BrokerCheck(False, f"cannot reach the broker at {where}: {e.strerror or e}")
    client.loop_start()
    try:
        if not done.wait(timeout) or "reason" not in answer:
            hint = "" if broker.tls_ca else " (a TLS port needs tls_ca)"
            return BrokerCheck(False, f"no MQTT answer from {where} within {timeout:.0f} s{hint}")
        reason = answer["reason"]
        if reason.is_failure:
            return BrokerCheck(False, f"the broker refused user {broker.username or '(none)'!r}: "
                                      f"{reason} (wrong password, or kiosk removed: enrol again)")
        return BrokerCheck(True, f"connected to {where} as {broker.username or 'anonymous'}"
                                 + (" over TLS" if broker.tls_ca else ""))
    finally:
        client.disconnect()
        client.loop_stop()
