"""``hailong kiosk``: the counter's kiosk and its field tools."""

from __future__ import annotations

import os
import time

import click

from hailong.cliutil import config_option, echo_json, user_errors

from kiosk.config import check_account, load_kiosk_config
from sync.outbox import Outbox

# pygame greets on stdout when imported; that would spoil --json output.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@click.group()
def kiosk() -> None:
    """The rating kiosk at a counter."""


@kiosk.command()
@config_option
@click.argument("count_arg", metavar="[COUNT]", type=click.IntRange(min=1), required=False)
@click.option("--count", type=click.IntRange(min=1), default=None,
              help="ratings to record (or give COUNT as an argument)")
@click.option("--seed", type=int, default=None, help="random seed, for repeatable runs")
@click.option("--official", "officials", multiple=True, help="official ids to spread over "
              "(repeat the option); default: whoever is on duty")
@user_errors
def simulate(config_path: str, count_arg: int | None, count: int | None, seed: int | None,
             officials: tuple[str]) -> None:
    """Record COUNT ratings through the same path as a citizen's press."""
    if count_arg and count and count_arg != count:
        raise click.UsageError(f"COUNT {count_arg} and --count {count} differ: give one")
    count = count_arg or count
    if not count:
        raise click.UsageError("how many? `hailong kiosk simulate 20` (or --count 20)")
    from kiosk.duty import Duty
    from kiosk.recorder import Recorder, Transaction
    from kiosk.simulate import simulate as run_simulation

    config = load_kiosk_config(config_path)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        # as the screen would: the server's scale, and whoever is on duty now
        remote = outbox.config()
        recorder.scale = remote.scale if remote else config.kiosk.scale
        recorder.official = Duty(outbox).on_duty(remote.on_duty if remote else None)
        # as the screen does: an open session (queue system, counter page) goes first
        taken = outbox.take_session_at(time.time(), config.flow.session_expiry)
        first = None
        if taken is not None:
            session, expires = taken
            first = Transaction(id=session.transaction, official=session.official,
                                dossier=session.dossier, procedure=session.procedure,
                                field=session.field, expires_at=expires)
        ids = run_simulation(recorder, count, seed=seed, officials=officials, first=first)
    click.echo(f"recorded {len(ids)} ratings in {config.store.path}")


@kiosk.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@click.option("--watch", is_flag=True, help="print again every 2 s until nothing is "
              "pending (a backlog draining); Ctrl-C stops")
@user_errors
def status(config_path: str, as_json: bool, watch: bool) -> None:
    """What the outbox holds: pending, acked, rejected; the broker link; how fast a
    backlog drains."""
    import time
    config = load_kiosk_config(config_path)
    while True:
        pending = _status_once(config, as_json)
        if not watch or not pending:
            return
        time.sleep(2)


def _status_once(config, as_json: bool) -> int:
    import time
    with Outbox(config.store.path) as outbox:
        counts = outbox.counts()
        # acked in the last minute: how fast a backlog drains, and when it will be done
        recent = outbox.db.execute("SELECT count(*) FROM ratings WHERE acked_at > ?",
                                   [time.time() - 60]).fetchone()[0]
        event = outbox.last_event()
        rejected = outbox.rejected(limit=5)
        by_reason = outbox.rejected_by_reason()
        by_score, suspect = outbox.score_counts()
        session = outbox.open_session(time.time(), config.flow.session_expiry)
        link = outbox.link()
    # the uplink's broker state as it last wrote it: a fault names its cause (issue 11)
    report = {**counts, "outbox": str(config.store.path), "kiosk": config.kiosk.id,
              "last_event": event, "recent_rejections": rejected, "link": link,
              "rejected_by_reason": by_reason,
              "last_rejected_reason": rejected[0]["reason"] if rejected else None,
              "by_score": by_score, "suspect": suspect,
              "open_session": session.dossier if session else None,
              "drain_per_s": round(recent / 60, 1),
              "drain_eta_s": round(counts["pending"] / (recent / 60)) if recent else None}
    if as_json:
        echo_json(report)
        return counts["pending"]
    click.echo(f"kiosk {config.kiosk.id} ({config.kiosk.commune}/{config.kiosk.counter})")
    click.echo(f"  pending {counts['pending']}  acked {counts['acked']}  "
               f"rejected {counts['rejected']}  (unfinished follow-ups {counts['unsealed']})")
    if counts["pending"] and recent:
        click.echo(f"  draining: {report['drain_per_s']} ratings/s over the last minute, "
                   f"about {report['drain_eta_s']} s to go")
    elif counts["pending"]:
        click.echo("  nothing acked in the last minute: the backlog is not draining")
    if link is None:
        click.echo("  broker: the uplink has not run yet")
    else:
        click.echo(f"  broker: {'connected' if link['connected'] else 'NOT connected'}"
                   + (f": {link['error']}" if link["error"] else ""))
    for r in rejected:
        click.echo(f"  rejected {r['id']}: {r['reason']}")
    if event:
        click.echo(f"  last event: {event['kind']}: {event['detail']}")
    return counts["pending"]


@kiosk.command()
@config_option
@click.option("--headless", is_flag=True, help="no screen: SDL's dummy video driver (tests, "
              "the demo without a display)")
@user_errors
def run(config_path: str, headless: bool) -> None:
    """Run the rating screen: full screen on the Pi, a window on a desktop."""
    from kiosk.ui.run import run_kiosk

    config = load_kiosk_config(config_path)
    check_account(config)
    run_kiosk(config, headless=headless)


@kiosk.command()
@config_option
@click.option("--force", is_flag=True, help="remake every prompt, even recorded ones")
@user_errors
def voice(config_path: str, force: bool) -> None:
    """Write the spoken Vietnamese prompts (espeak-ng) into [sound] voice_dir; files
    already there (the commune's own recordings) are kept."""
    from kiosk.voice import make_voice

    config = load_kiosk_config(config_path)
    folder = config.sound.voice_dir
    for name, what in make_voice(folder, force=force).items():
        click.echo(f"{what:5} {folder / (name + '.wav')}")


@kiosk.command()
@config_option
@click.option("--size", default="800x480", show_default=True, help="screen size WxH")
@click.option("--real-time", is_flag=True, help="run at the script's own pace (in a window "
              "when there is a desktop) instead of on a simulated clock")
@click.argument("script", type=click.File("r", encoding="utf-8"))
@user_errors
def replay(config_path: str, size: str, real_time: bool, script) -> None:
    """Run the real kiosk app on SCRIPT's timed taps, keys, buttons, scans and sessions;
    print one JSON object of what was stored. Nothing reaches the real outbox."""
    from kiosk.replay import replay as run_replay
    from kiosk.ui.display import parse_size

    config = load_kiosk_config(config_path)
    echo_json(run_replay(config, script.read(), parse_size(size, "--size"),
                         real_time=real_time))


@kiosk.command()
@config_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="folder for the PNG files")
@click.option("--size", "sizes", multiple=True, help="WxH, e.g. 800x480 (repeatable); "
              "default: 800x480, 1024x600, 1280x800, 1920x1080 and portrait")
@user_errors
def screenshots(config_path: str, out_dir: str, sizes: tuple[str]) -> None:
    """Render every screen to PNG (for docs and layout checks)."""
    import os
    from pathlib import Path

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from kiosk.ui.display import parse_size
    from kiosk.ui.layout import SIZES
    from kiosk.ui.screenshots import take_screenshots

    chosen = tuple(parse_size(s, "--size") for s in sizes) or SIZES
    shots = take_screenshots(config_path, Path(out_dir), sizes=chosen)
    bad = [s for s in shots if s.problems]
    for shot in shots:
        click.echo(f"{shot.path}" + (f"  LAYOUT: {'; '.join(shot.problems)}"
                                      if shot.problems else ""))
    click.echo(f"{len(shots)} screenshots in {out_dir}, {len(bad)} with layout problems")
    if bad:
        raise SystemExit(1)


@kiosk.command()
@config_option
@click.option("--out", "out", default="kiosk-snapshot.png", show_default=True,
              type=click.Path(dir_okay=False), help="PNG file to write")
@user_errors
def snapshot(config_path: str, out: str) -> None:
    """Save what the running kiosk screen shows now (also without a display)."""
    from kiosk.ui.snapshot import request

    config = load_kiosk_config(config_path)
    click.echo(f"saved {request(config.store.path, out)}")


@kiosk.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def doctor(config_path: str, as_json: bool) -> None:
    """Check display, touch, GPIO, font, clock, disk, outbox, broker and sound."""
    from kiosk.doctor import as_json as to_json
    from kiosk.doctor import diagnose

    results = diagnose(load_kiosk_config(config_path))
    report = to_json(results)
    if as_json:
        echo_json(report)
    else:
        for r in results:
            click.echo(f"{r.status.upper():5} {r.name:8} {r.detail}")
    if not report["ok"]:
        raise SystemExit(1)
