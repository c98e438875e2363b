"""Small helpers the part CLIs share: the --config option, one-line user errors."""

from __future__ import annotations

import functools
import json
import logging
import signal
import threading

import click

from .errors import HailongError


def config_option(func):
    return click.option("--config", "config_path", required=True,
                        type=click.Path(dir_okay=False),
                        help="the TOML config file")(func)


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
