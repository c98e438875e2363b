"""``hailong kiosk``: the counter's kiosk and its field tools."""

from __future__ import annotations

import click

from hailong.cliutil import config_option, echo_json, user_errors

from .config import load_kiosk_config
from .outbox import Outbox


@click.group()
def kiosk() -> None:
    """The rating kiosk at a counter."""


@kiosk.command()
@config_option
@click.option("--count", type=click.IntRange(min=1), required=True, help="ratings to record")
@click.option("--seed", type=int, default=None, help="random seed, for repeatable runs")
@click.option("--official", "officials", multiple=True, help="official ids to spread over "
              "(repeat the option); default: whoever is on duty")
@user_errors
def simulate(config_path: str, count: int, seed: int | None, officials: tuple[str]) -> None:
    """Record COUNT ratings through the same path as a citizen's press."""
    from .recorder import Recorder
    from .simulate import simulate as run_simulation

    config = load_kiosk_config(config_path)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        ids = run_simulation(recorder, count, seed=seed, officials=officials)
    click.echo(f"recorded {len(ids)} ratings in {config.store.path}")


@kiosk.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def status(config_path: str, as_json: bool) -> None:
    """What the outbox holds: pending, acked, rejected."""
    config = load_kiosk_config(config_path)
    with Outbox(config.store.path) as outbox:
        counts = outbox.counts()
        event = outbox.last_event()
        rejected = outbox.rejected(limit=5)
    report = {**counts, "outbox": str(config.store.path), "kiosk": config.kiosk.id,
              "last_event": event, "recent_rejections": rejected}
    if as_json:
        echo_json(report)
        return
    click.echo(f"kiosk {config.kiosk.id} ({config.kiosk.commune}/{config.kiosk.counter})")
    click.echo(f"  pending {counts['pending']}  acked {counts['acked']}  "
               f"rejected {counts['rejected']}  (unfinished follow-ups {counts['unsealed']})")
    for r in rejected:
        click.echo(f"  rejected {r['id']}: {r['reason']}")
    if event:
        click.echo(f"  last event: {event['kind']}: {event['detail']}")
