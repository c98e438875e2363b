"""Re-render the examples in this folder from config/server.example.toml:
``.venv/bin/python config/mosquitto/render.py`` (tests/test_fleet_examples.py checks
they are current). On a server, run ``hailong server broker-config`` instead."""

from pathlib import Path

from server.fleet.broker_config import acl_text, mosquitto_conf
from server.fleet.fleet_cli import admin_config

HERE = Path(__file__).resolve().parent


def render() -> dict[str, str]:
    config = admin_config(HERE.parent / "server.example.toml")
    commune = config.server.commune
    return {
        "mosquitto.conf.example": mosquitto_conf(
            folder=Path("/etc/hailong/broker"), host=config.broker.host,
            port=config.broker.port, persistence=Path("/var/lib/mosquitto"),
            user="mosquitto", max_queued=config.fleet.max_queued_messages,
            tls_port=config.fleet.tls_port, tls_host=config.fleet.tls_host),
        "acl.example": acl_text(commune, config.broker.username),
    }


if __name__ == "__main__":
    for name, text in render().items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}")
