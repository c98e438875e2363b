"""``hailong sync``: the kiosk's uplink daemon."""

from __future__ import annotations


import click

from hailong.cliutil import config_option, stop_on_signals, user_errors
from kiosk.config import check_account, load_kiosk_config


@click.group()
def sync() -> None:
    """The uplink: sends the kiosk's stored ratings to the commune server."""


@sync.command("run")
@config_option
@user_errors
def run(config_path: str) -> None:
    """Send pending ratings over MQTT until stopped; mark only what the server acks."""
    from sync.uplink import Uplink

    from sync.instance import UplinkRunning, hold_uplink_lock

    config = load_kiosk_config(config_path)
    check_account(config)
    try:
        # held for the process's life: the doctor sees a live uplink by it
        hold_uplink_lock(config.store.path)
    except UplinkRunning as e:
        raise click.ClickException(f"{e} (systemctl status hailong-sync)") from None
    stop = stop_on_signals()
    uplink = Uplink(config)
    # officials' photos for the UI, which never touches the network (kiosk/photos.py)
    from kiosk.photos import PhotoFetcher
    photos = PhotoFetcher(config.store.path).start()
    try:
        uplink.run(stop)
    finally:
        photos.stop()
