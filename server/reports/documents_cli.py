"""``hailong server report`` and ``hailong server send-reports``: the period report as a
file from the command line, and the scheduled e-mail sent now (to try the SMTP
settings, or to send what a stopped server missed). Registered on the ``server``
group by ``server/cli.py``."""

from __future__ import annotations

import smtplib
from pathlib import Path

import click

from hailong.cliutil import config_option, user_errors

from server.config import load_server_config

FORMATS = ("docx", "pdf", "xlsx", "csv")


@click.command("report")
@config_option
@click.option("--period", required=True, help="2026-Q3, bc-2026-Q3 (Decree 09/2019), "
              "2026-10-01..2026-10-15, 2026-W05, 2026-11, 2026 …")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="file to write; its extension (.docx .pdf .xlsx .csv) is the format")
@user_errors
def report(config_path: str, period: str, out: str) -> None:
    """Write the period report as DOCX, PDF, XLSX or CSV."""
    from server.reports import figures, letters, pdf, files as report_files, report as reports
    from server.ingest.store import connect

    fmt = Path(out).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.ClickException(f"--out {out}: the name must end in "
                                   f"{', '.join('.' + f for f in FORMATS)}")
    config = load_server_config(config_path)
    p = figures.parse_period(period)
    db = connect(config.store)
    try:
        names = dict(db.execute("SELECT id, name FROM officials"))
        data = reports.build(db.conn, p, names)
    finally:
        db.close()
    commune = config.server.commune_name or config.server.commune
    if fmt == "xlsx":
        body = report_files.xlsx(data, commune)
    elif fmt == "csv":
        body = report_files.csv_bytes(data)
    else:
        body = report_files.docx(data, commune, letters.Settings.from_config(config))
        if fmt == "pdf":
            body = pdf.convert(body)
    Path(out).write_bytes(body)
    click.echo(f"{data['label']}: {out} ({len(body):,} bytes)")


@click.command("send-reports")
@config_option
@click.option("--dry-run", is_flag=True, help="only list the reports that are due")
@user_errors
def send_reports(config_path: str, dry_run: bool) -> None:
    """E-mail the monthly and quarterly reports that are due now ([mail] settings);
    each is sent once, as by the running server."""
    from server.followup.mailer import ReportMailer

    config = load_server_config(config_path)
    mailer = ReportMailer(config)
    try:
        if not mailer.enabled:
            raise click.ClickException(f"{config.path}: [mail] host and report_recipients "
                                       "must be set")
        due = mailer.due()
        if dry_run:
            for kind, p in due:
                click.echo(f"due: {kind} {p.key} ({p.label()})")
            if not due:
                click.echo("nothing due")
            return
        try:
            sent = mailer.send_due()
        except (OSError, smtplib.SMTPException) as e:
            raise click.ClickException(f"SMTP {config.smtp.host}:{config.smtp.port}: {e}")
        click.echo("\n".join(f"sent: {s}" for s in sent) or "nothing due")
    finally:
        mailer.stop()


COMMANDS = (report, send_reports)
