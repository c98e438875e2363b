"""Reports for a month, a quarter (Q1-Q4), 6 or 9 months, or a year: satisfaction by
official, counter, field and procedure; reasons; follow-up outcomes. Exported as XLSX
(openpyxl), CSV, and a printable .docx laid out for the commune's report to the
province (Decree 30/2020 header, numbered sections, tables). Periods: calendar ones,
the official reporting periods of Decree 09/2019 (``server/reports/periods.py``), any
date range and ISO week; each report carries its cut-off day, counts at every level
and the change against the previous period and the same period a year before.

Suspect ratings are left out of every index; ratings from kiosks whose clock was not
synchronised are placed by the server's corrected time (``occurred_at``).
"""

from __future__ import annotations

import sqlite3
import time

from hailong import domain

from server.reports import figures, letters, extra as report_extra, files as report_files
from server.followup import cases as followup
from server.reports.rollup import day_start

XLSX_MIME = report_files.XLSX_MIME

SECTIONS = (("official", "Công chức", "Official"), ("counter", "Quầy", "Counter"),
            ("kiosk", "Thiết bị", "Kiosk"), ("field", "Lĩnh vực", "Field"),
            ("procedure", "Thủ tục", "Procedure"))


def build(conn: sqlite3.Connection, period: figures.Period,
          names: dict[str, str] | None = None) -> dict:
    """Every figure of the report, as plain data (also the JSON API's answer)."""
    names = names or {}
    out = {"period": period.key, "label": period.label("vi"), "label_en": period.label("en"),
           "start": period.start.isoformat(), "end": period.end.isoformat(),
           "generated_at": time.time(), "summary": figures.summary(conn, period)}
    cuts = figures.breakdowns(conn, period)
    for dim, _, _ in SECTIONS:
        rows = cuts[dim]
        if dim == "official":
            for r in rows:
                r["name"] = names.get(r["key"], r["key"] or "")
        out[f"by_{dim}"] = rows
    out["trend"] = figures.trend(conn, period)
    out["reasons"] = [{**r, "vi": domain.REASONS[r["code"]].vi if r["code"] in domain.REASONS
                       else r["code"]} for r in figures.reasons(conn, period)]
    out["followup"] = followup.outcomes_in(conn, day_start(period.start), day_start(period.end))
    return report_extra.enrich(conn, period, out)


# The files themselves are made in server/reports/files.py (issue 10: Vietnamese formats,
# comparisons, levels, page numbers, signer); these names stay for existing callers.

def to_xlsx(data: dict, commune_name: str) -> bytes:
    return report_files.xlsx(data, commune_name)


def to_csv(data: dict) -> str:
    """CSV text; ``report_files.csv_bytes`` adds the BOM Excel needs."""
    return report_files.csv_text(data)


def to_docx(data: dict, commune_name: str,
            settings: letters.Settings = letters.Settings()) -> bytes:
    """The printable report to the province (Báo cáo), Decree 30/2020 layout."""
    return report_files.docx(data, commune_name, settings)
