"""``hailong server`` commands for the fleet: the broker's config, enrolment, health.

Thin: parse, call :mod:`server.fleet.broker_config`, :mod:`server.fleet.kiosks`,
:mod:`server.fleet.bundle`, print. Passwords are written to files, never printed.
"""

from __future__ import annotations

from pathlib import Path

import click

from hailong.cliutil import config_option, echo_json, user_errors

from server.config import load_server_config

WILDCARD_HOSTS = ("", "0.0.0.0", "::")
LOOPBACK = ("127.", "localhost", "::1")


def admin_config(config_path: str):
    """The server config for commands that never connect to the broker: they must
    work for an admin who cannot read the server's broker password file."""
    return load_server_config(config_path, overrides={"broker": {"password": "-"}})


def _fleet(config):
    from server.fleet.kiosks import Fleet
    from server.ingest.store import connect
    db = connect(config.store)
    own_like_folder(config.store.path)
    return db, Fleet(db, config.server.commune)


def own_like_folder(path) -> None:
    """Run as root (sudo) on a server, a command that creates the store must leave it
    to the service's user, who owns the folder (/var/lib/hailong), not to root."""
    import os
    path = Path(path)
    if os.geteuid() != 0:
        return
    folder = path.parent.stat()
    for suffix in ("", "-wal", "-shm", ".lock"):  # .lock: hailong/database.py's migration lock
        p = Path(str(path) + suffix)
        if p.exists() and p.stat().st_uid != folder.st_uid:
            os.chown(p, folder.st_uid, folder.st_gid)


@click.command("broker-config")
@config_option
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="folder to write mosquitto.conf, passwd, acl (and tls/) into")
@click.option("--user", "user", default=None, help="system user mosquitto runs as "
              "(default: whoever runs this; use 'mosquitto' on a server)")
@click.option("--persistence", type=click.Path(file_okay=False), default=None,
              help="folder for mosquitto's persistence file (default: OUT/data)")
@user_errors
def broker_config(config_path: str, out: str, user: str | None,
                  persistence: str | None) -> None:
    """Write a locked-down mosquitto config that `mosquitto -c OUT/mosquitto.conf` runs,
    and make the server's own broker account (its password goes to [broker]
    password_file)."""
    from server.fleet.broker_config import ensure_server_password, write_broker_folder
    from server.fleet.kiosks import check_server_username

    password, secret = ensure_server_password(config_path)
    config = load_server_config(config_path)
    check_server_username(config.broker.username)
    db, fleet = _fleet(config)
    try:
        notes = write_broker_folder(config, Path(out), password, fleet, user=user,
                                    persistence=Path(persistence) if persistence else None)
        kiosks = len(fleet.active())
    finally:
        db.close()
    click.echo(f"wrote {Path(out) / 'mosquitto.conf'} (server account "
               f"{config.broker.username!r}, {kiosks} kiosk account(s))")
    if secret:
        click.echo(f"server's broker password: {secret}")
    for note in notes:
        click.echo(f"note: {note}")
    click.echo(f"run it: mosquitto -c {Path(out).resolve() / 'mosquitto.conf'}")


@click.command("add-kiosk")
@config_option
@click.option("--kiosk", "kiosk_id", required=True, help="the new kiosk's id, e.g. k01")
@click.option("--counter", required=True, help="the counter it stands at, e.g. q1")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="folder for the kiosk's config bundle (kiosk.toml, ca.crt)")
@click.option("--broker-host", default=None, help="the broker's address as the kiosk "
              "sees it (default: [broker] host)")
@click.option("--for-pi", is_flag=True, help="paths for the Pi layout (/etc/hailong, "
              "/var/lib/hailong) instead of paths that work in OUT")
@click.option("--no-tls", is_flag=True, help="use the plain listener even if the broker "
              "has a TLS one")
@click.option("--note", default="", help="free text kept with the enrolment")
@user_errors
def add_kiosk(config_path: str, kiosk_id: str, counter: str, out: str,
              broker_host: str | None, for_pi: bool, no_tls: bool, note: str) -> None:
    """Enrol a kiosk: its own broker account and ACL, and a config bundle for the Pi.
    Enrolling an enrolled kiosk again gives it a new password."""
    from server.fleet.broker_config import BrokerReloadFailed, certificate_names, refresh_credentials
    from server.fleet.bundle import write_bundle
    from server.fleet.kiosks import FleetError
    from server.fleet.roster import Roster

    config = admin_config(config_path)
    host = broker_host or config.broker.host
    if host in WILDCARD_HOSTS or (for_pi and host.startswith(LOOPBACK)):
        if broker_host:
            raise FleetError(f"--broker-host {host!r} is not an address a kiosk can reach: "
                             "give the server's address on the commune network")
        raise FleetError(f"the broker's address for the kiosk would be {host!r} ([broker] "
                         "host): say --broker-host, the server's address on the commune "
                         "network")
    if kiosk_id == config.broker.username:
        raise FleetError(f"{kiosk_id!r} is the server's broker account")
    db, fleet = _fleet(config)
    try:
        port, ca = config.broker.port, None
        if config.fleet.tls_port and not no_tls:
            broker_dir = fleet.meta("broker_dir")
            if not broker_dir or not (Path(broker_dir) / "tls" / "ca.crt").exists():
                raise FleetError("the broker has a TLS port but no CA yet: run "
                                 "`hailong server broker-config` first (or use --no-tls)")
            port, ca = config.fleet.tls_port, Path(broker_dir) / "tls" / "ca.crt"
            names = certificate_names(Path(broker_dir) / "tls" / "server.crt")
            if host not in names:
                # the kiosk would fail every connect with "certificate verify failed"
                raise FleetError(
                    f"the broker's TLS certificate does not cover {host!r} (it names "
                    f"{', '.join(names)}): give one of those as --broker-host, or add "
                    f"{host!r} to [fleet] tls_names, delete {broker_dir}/tls/server.crt and "
                    "run broker-config again (or use --no-tls)")
        password = fleet.enrol(kiosk_id, counter, note=note)
        Roster(db).ensure_counter(counter)
        bundle = write_bundle(Path(out), kiosk=kiosk_id, commune=config.server.commune,
                              counter=counter, host=host, port=port, username=kiosk_id,
                              password=password, ca=ca, for_pi=for_pi)
        try:
            folder = refresh_credentials(config, fleet)
            reload_error = None
        except BrokerReloadFailed as e:
            folder, reload_error = Path(fleet.meta("broker_dir") or "."), e
    finally:
        db.close()
    click.echo(f"enrolled kiosk {kiosk_id} at counter {counter}; bundle: {bundle}")
    click.echo("  kiosk.toml holds the kiosk's password: copy it to the Pi, then delete it here")
    if reload_error:
        raise click.ClickException(f"kiosk {kiosk_id} is enrolled and its bundle written, but "
                                   f"the broker was not reloaded: {reload_error}; reload it "
                                   "by hand (systemctl reload mosquitto) before the kiosk "
                                   "can connect")
    _broker_note(config, folder)


@click.command("remove-kiosk")
@config_option
@click.option("--kiosk", "kiosk_id", required=True, help="the kiosk to revoke")
@user_errors
def remove_kiosk(config_path: str, kiosk_id: str) -> None:
    """Revoke a kiosk: its broker account goes; its ratings stay."""
    from server.fleet.broker_config import refresh_credentials

    config = admin_config(config_path)
    db, fleet = _fleet(config)
    try:
        fleet.revoke(kiosk_id)
        folder = refresh_credentials(config, fleet)
    finally:
        db.close()
    click.echo(f"removed kiosk {kiosk_id}")
    _broker_note(config, folder)


def _broker_note(config, folder: Path | None) -> None:
    if folder is None:
        click.echo("  the broker has no config yet: run `hailong server broker-config`")
    elif not config.fleet.reload_command:
        click.echo(f"  updated {folder / 'passwd'}; reload the broker now "
                   "(systemctl reload mosquitto, or kill -HUP its pid); set [fleet] "
                   "reload_command to do it automatically")
    else:
        click.echo(f"  updated {folder / 'passwd'} and reloaded the broker")


@click.command("fleet")
@config_option
@click.option("--json", "as_json", is_flag=True, help="a JSON list, for scripts")
@user_errors
def fleet_command(config_path: str, as_json: bool) -> None:
    """Every kiosk: enrolled or not, online, last seen, backlog, version, clock skew."""
    from server.fleet.kiosks import fleet_view

    config = admin_config(config_path)
    db, _ = _fleet(config)
    try:
        rows = fleet_view(db)
    finally:
        db.close()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no kiosks enrolled or heard from yet")
    for r in rows:
        state = "revoked" if r["revoked"] else ("online" if r["online"] else "OFFLINE")
        seen = f"seen {r['age_s']:.0f} s ago" if r["age_s"] is not None else "never seen"
        # the skew from the last ack is the better one: a retained status replayed to a
        # restarted server is old, which makes its own skew look wrong
        skew_s = r["ack_clock_skew"] if r["ack_clock_skew"] is not None else r["clock_skew"]
        skew = f"clock {skew_s:+.1f} s" if skew_s is not None else ""
        click.echo(f"{r['id']:<12} {r['counter'] or '-':<8} {state:<8} {seen:<20} "
                   f"backlog {r['backlog'] if r['backlog'] is not None else '-':<6} "
                   f"v{r['version'] or '?':<8} {skew}"
                   + (f"  ! {r['last_error']}" if r["last_error"] else "")
                   + (f"\n{'':12} !! {r['duplicate']}" if r.get("duplicate") else ""))


@click.command("set-pin")
@config_option
@click.option("--kiosk", "kiosk_id", required=True, help="the enrolled kiosk's id")
@user_errors
def set_pin(config_path: str, kiosk_id: str) -> None:
    """Set a kiosk's technician PIN (4-12 digits, read from stdin); the running server
    pushes only its hash in the kiosk's config."""
    import sys

    from hailong.pin import hash_pin, valid_pin
    if sys.stdin.isatty():
        click.echo("PIN (4-12 digits): ", nl=False, err=True)
    pin = sys.stdin.readline().strip()
    if not valid_pin(pin):
        raise click.ClickException("the PIN must be 4 to 12 digits (given on stdin)")
    config = admin_config(config_path)
    db, fleet = _fleet(config)
    try:
        if not fleet.get(kiosk_id) or fleet.get(kiosk_id)["revoked_at"]:
            raise click.ClickException(f"kiosk {kiosk_id!r} is not enrolled (add-kiosk first)")
        fleet.set_meta(f"tech_pin:{kiosk_id}", hash_pin(pin))
    finally:
        db.close()
    click.echo(f"technician PIN of {kiosk_id} set; the server pushes it with the next config")


def _commands() -> tuple:
    from server.fleet.roster_cli import roster
    return (broker_config, add_kiosk, remove_kiosk, fleet_command, roster, set_pin)


COMMANDS = _commands()
