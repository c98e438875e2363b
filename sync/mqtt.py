"""The MQTT client adapter both ends use: broker settings and a configured paho client.

paho-mqtt 2.x with ``CallbackAPIVersion.VERSION2``. Both ends use a fixed client id
and a persistent session (``clean_session=False``), so the broker keeps QoS 1
subscriptions across reconnects; but nothing here *relies* on the broker or on paho's
in-memory queue to keep a rating: the outbox and the server's ack do that.
"""

from __future__ import annotations

import logging
import ssl

import paho.mqtt.client as mqtt

from hailong.settings import Setting

log = logging.getLogger(__name__)

BROKER_SETTINGS = (
    Setting("broker", "host", str, "127.0.0.1", "MQTT broker host name or address"),
    Setting("broker", "port", int, 1883, "MQTT broker port", minimum=1, maximum=65535),
    Setting("broker", "username", str, "", "broker account; empty for an anonymous broker"),
    Setting("broker", "password", str, "", "broker password; or password_file, or the "
            "HAILONG_BROKER_PASSWORD environment variable", secret=True),
    Setting("broker", "tls_ca", str, "", "CA certificate file: set it to connect with TLS"),
    Setting("broker", "keepalive", int, 30, "seconds between MQTT keep-alive pings",
            minimum=5, maximum=600),
)


def make_client(broker, client_id: str, *, will: tuple[str, bytes] | None = None) -> mqtt.Client:
    """A paho client for ``broker`` (the [broker] config section); not yet connected."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=False, protocol=mqtt.MQTTv311)
    if broker.username:
        client.username_pw_set(broker.username, broker.password or None)
    if broker.tls_ca:
        client.tls_set(ca_certs=broker.tls_ca, cert_reqs=ssl.CERT_REQUIRED)
    if will:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(100)
    return client


def connect_error(reason_code) -> str:
    """A technician-readable line for a refused or lost connection."""
    text = str(reason_code)
    if "authori" in text.lower() or "password" in text.lower():
        return f"broker refused the credentials ({text})"
    return f"broker connection: {text}"
