"""``hailong server roster ...``: edit what the kiosks show (officials, counters,
who is on duty, scale, reasons). The running server pushes the change to the kiosks
within ``[fleet] push_interval`` seconds; ``roster push`` shows what it will send."""

from __future__ import annotations

from pathlib import Path

import click

from hailong.cliutil import config_option, echo_json, user_errors

from server.fleet.fleet_cli import admin_config, own_like_folder


def _open(config_path: str):
    from server.fleet.roster import Roster
    from server.ingest.store import connect
    config = admin_config(config_path)
    db = connect(config.store)
    own_like_folder(config.store.path)
    return config, db, Roster(
        db, contact_retention_days=config.privacy.contact_retention_days)


@click.group()
def roster() -> None:
    """The roster kiosks show: officials, counters, on duty, scale, reasons."""


@roster.command("add-official")
@config_option
@click.option("--id", "official", required=True, help="the official's id, e.g. cb-an")
@click.option("--name", required=True, help="full name as shown on the kiosk")
@click.option("--title", default=None, help="job title, e.g. 'Công chức Tư pháp - Hộ tịch'")
@click.option("--photo", default=None, help="a .jpg/.png file (copied to [fleet] "
              "photos_dir) or an http(s) URL")
@click.option("--counter", default=None, help="also put them on duty at this counter")
@user_errors
def add_official(config_path: str, official: str, name: str, title: str | None,
                 photo: str | None, counter: str | None) -> None:
    """Add an official (or update their name, title, photo)."""
    config, db, r = _open(config_path)
    try:
        r.add_official(official, name, title=title, photo=photo,
                       photos_dir=config.fleet.photos_dir)
        if counter:
            r.set_on_duty(counter, official)
    finally:
        db.close()
    click.echo(f"official {official}: {name}" + (f", on duty at {counter}" if counter else ""))


@roster.command("remove-official")
@config_option
@click.option("--id", "official", required=True, help="the official's id")
@user_errors
def remove_official(config_path: str, official: str) -> None:
    """Retire an official: no longer shown; their ratings stay."""
    _, db, r = _open(config_path)
    try:
        r.remove_official(official)
    finally:
        db.close()
    click.echo(f"official {official} retired")


@roster.command("set-on-duty")
@config_option
@click.option("--counter", required=True, help="the counter, e.g. q1")
@click.option("--official", default=None, help="who serves there now; leave out for nobody")
@user_errors
def set_on_duty(config_path: str, counter: str, official: str | None) -> None:
    """Say who is on duty at a counter (the kiosk rates them by default)."""
    _, db, r = _open(config_path)
    try:
        r.set_on_duty(counter, official)
    finally:
        db.close()
    click.echo(f"counter {counter}: on duty {official or 'nobody'}")


@roster.command("set-counter")
@config_option
@click.option("--counter", required=True, help="the counter, e.g. q1")
@click.option("--name", default=None, help="its name, e.g. 'Quầy 1 - Tư pháp'")
@click.option("--officials", default=None, help="comma-separated official ids serving "
              "here (empty: all)")
@click.option("--scale", type=click.IntRange(3, 5), default=None, help="levels at this counter")
@click.option("--mode", type=click.Choice(["always", "transaction"]), default=None,
              help="rate at any time, or only after a transaction starts")
@user_errors
def set_counter(config_path: str, counter: str, name: str | None, officials: str | None,
                scale: int | None, mode: str | None) -> None:
    """Name a counter and say who serves there."""
    _, db, r = _open(config_path)
    ids = None if officials is None else [o for o in officials.split(",") if o]
    try:
        r.set_counter(counter, name=name, officials=ids, scale=scale, mode=mode)
    finally:
        db.close()
    click.echo(f"counter {counter} updated")


@roster.command("set-scale")
@config_option
@click.argument("levels", type=click.IntRange(3, 5))
@user_errors
def set_scale(config_path: str, levels: int) -> None:
    """The commune's rating scale: 3, 4 (default) or 5 levels."""
    _, db, r = _open(config_path)
    try:
        r.set_setting("scale", levels)
    finally:
        db.close()
    click.echo(f"scale: {levels} levels")


@roster.command("set-reasons")
@config_option
@click.option("--kind", type=click.Choice(["low", "high"]), required=True,
              help="reasons asked after a low or a high rating")
@click.option("--reason", "reasons", multiple=True, required=True,
              help="code=Vietnamese label|English label (repeat; up to 12)")
@user_errors
def set_reasons(config_path: str, kind: str, reasons: tuple[str, ...]) -> None:
    """Set the reasons the kiosk offers after a low (or high) rating."""
    import msgspec

    from sync.contract import ReasonLabel

    from server.fleet.roster import RosterError
    labels = []
    for item in reasons:
        code, _, text = item.partition("=")
        vi, _, en = text.partition("|")
        if not code or not vi:
            raise RosterError(f"--reason {item!r}: write code=Vietnamese label|English label")
        label = {"code": code, "vi": vi, "en": en}
        try:  # with the contract's limits (a code is lower-case, a label <= 200 chars)
            msgspec.convert(label, ReasonLabel)
        except msgspec.ValidationError as e:
            raise RosterError(f"--reason {item!r}: {e}") from None
        labels.append(label)
    _, db, r = _open(config_path)
    try:
        r.set_setting(f"{kind}_reasons", labels[:12])
    finally:
        db.close()
    click.echo(f"{kind} reasons: {', '.join(x['code'] for x in labels[:12])}")


@roster.command("set-survey")
@config_option
@click.option("--on/--off", "on", required=True, help="ask the SIPAS survey after each rating")
@click.option("--scale", type=click.IntRange(3, 5), default=4, show_default=True,
              help="answer levels per question")
@click.option("--question", "questions", multiple=True,
              help="code=factor=Vietnamese question|English question (repeat; factor one of "
                   "access, procedure, official, result, feedback); default: one question "
                   "per SIPAS factor")
@click.option("--level", "levels", multiple=True,
              help="Vietnamese|English words of one answer level, best first (repeat, as "
                   "many as --scale); default: the rating's own words")
@user_errors
def set_survey(config_path: str, on: bool, scale: int, questions: tuple[str, ...],
               levels: tuple[str, ...]) -> None:
    """SIPAS survey mode: after the rating, one question per screen (docs/kiosk.md)."""
    import msgspec

    from hailong import sipas
    from sync.contract import LevelLabel, Survey, SurveyQuestion

    from server.fleet.roster import RosterError
    survey = None
    if on:
        asked = []
        for item in questions:
            code, _, rest = item.partition("=")
            factor, _, text = rest.partition("=")
            vi, _, en = text.partition("|")
            try:
                asked.append(msgspec.convert({"code": code, "factor": factor, "vi": vi,
                                              "en": en}, SurveyQuestion))
            except msgspec.ValidationError as e:
                raise RosterError(f"--question {item!r}: write code=factor=Vietnamese|English "
                                  f"({e})") from None
        if len(asked) > 12:
            raise RosterError("at most 12 survey questions")
        words = None
        if levels:
            if len(levels) != scale:
                raise RosterError(f"--level given {len(levels)} times for {scale} levels")
            words = [LevelLabel(vi=vi, en=en) for vi, _, en in
                     (item.partition("|") for item in levels)]
            if not all(w.vi for w in words):
                raise RosterError("--level: write Vietnamese words|English words")
        survey = Survey(questions=asked or list(sipas.DEFAULT_QUESTIONS), scale=scale,
                        levels=words)
    _, db, r = _open(config_path)
    try:
        r.set_survey(survey)
    finally:
        db.close()
    click.echo(f"survey: {len(survey.questions)} question(s), {scale} levels" if survey
               else "survey: off")


@roster.command("push")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def push(config_path: str, as_json: bool) -> None:
    """Make new config revisions for changed kiosks now; the running server publishes
    them (retained) within [fleet] push_interval seconds."""
    from server.fleet.kiosks import Fleet
    from server.fleet.roster import photo_base_url
    config, db, r = _open(config_path)
    try:
        kiosks = Fleet(db, config.server.commune).active()
        made = r.refresh(kiosks, photo_base_url(config))
        waiting = [(k, rev) for k, rev, _ in r.latest(unpublished=True)]
    finally:
        db.close()
    if as_json:
        echo_json({"made": made, "unpublished": waiting})
        return
    for k, rev in made:
        click.echo(f"kiosk {k}: new revision {rev}")
    click.echo(f"{len(waiting)} kiosk config(s) waiting for the running server to publish"
               if waiting else "every kiosk's newest config is published")


@roster.command("show")
@config_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
@user_errors
def show(config_path: str, as_json: bool) -> None:
    """Officials, counters and each kiosk's newest config revision."""
    _, db, r = _open(config_path)
    try:
        report = {"officials": r.officials(), "counters": r.counters(),
                  "settings": r.settings(),
                  "configs": {k: rev for k, rev, _ in r.latest()}}
    finally:
        db.close()
    if as_json:
        echo_json(report)
        return
    for o in report["officials"]:
        click.echo(f"official {o['id']:<12} {o['name']}" + ("" if o["active"] else " (retired)")
                   + (f"  photo {Path(o['photo']).name}" if o["photo"] else ""))
    for c in report["counters"]:
        click.echo(f"counter  {c['id']:<12} {c['name'] or ''}  on duty: {c['on_duty'] or '-'}")
    for k, rev in report["configs"].items():
        click.echo(f"kiosk    {k:<12} config revision {rev}")
