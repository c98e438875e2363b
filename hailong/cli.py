"""The ``hailong`` command: one console script, a subcommand group per part.

The CLI only parses and calls; the work is in the libraries (house style rule 1).
"""

from __future__ import annotations

import click

from hailong import __version__
from hailong.cliutil import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hailong")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="how much to log on standard error")
def main(log_level: str) -> None:
    """Hài Lòng: citizen rating kiosks for commune one-stop counters."""
    setup_logging(log_level)


def _register() -> None:
    from kiosk.cli import kiosk
    from province.cli import province
    from server.cli import server
    from sync.cli import sync

    from hailong.demo import demo
    for command in (kiosk, sync, server, province, demo):
        main.add_command(command)


_register()
