"""Small helpers the part CLIs share: the --config option, one-line user errors."""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import threading

import click

from hailong.errors import HailongError


CONFIG_ENV = "HAILONG_CONFIG"
CONFIG_DIR = "/etc/hailong"


def default_config(ctx: click.Context) -> str:
    """$HAILONG_CONFIG, else the installed file of the command's part: a technician on a
    Pi types `hailong kiosk doctor`, not the path install.sh chose (issue 11)."""
    if os.environ.get(CONFIG_ENV):
        return os.environ[CONFIG_ENV]
    path = ctx.command_path.split()
    part = "server" if "server" in path else "province" if "province" in path else "kiosk"
    return f"{CONFIG_DIR}/{part}.toml"


def _resolve_config(ctx: click.Context, param, value):
    if value:
        return value  # a given file that is missing: the loader says so, as before
    value = default_config(ctx)
    if not os.path.exists(value):
        raise click.BadParameter(f"no --config given and {value} does not exist; give "
                                 f"--config FILE or set {CONFIG_ENV}", ctx=ctx, param=param)
    return value


def config_option(func):
    return click.option("--config", "config_path", default=None, callback=_resolve_config,
                        type=click.Path(dir_okay=False),
                        help=f"the TOML config file [default: ${CONFIG_ENV}, else "
                             f"{CONFIG_DIR}/kiosk.toml or server.toml]")(func)


def user_errors(func):
    """Errors a user can cause become one clear line (exit 1), not a traceback."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HailongError as e:
            raise click.ClickException(str(e)) from None
    return wrapper


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (systemd stopping us) or SIGINT (Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, sort_keys=True))


def setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
