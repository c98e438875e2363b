"""How long letters and reports take to become PDF (LibreOffice headless), one file per
run against many files in one run, and how long the DOCX/XLSX/CSV of a quarter take.

    .venv/bin/python bench/bench_documents.py

Prints one JSON line of figures last.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.reports import figures, letters, pdf, files as report_files, report as reports, rollup  # noqa: E402
from server.ingest import seed
from server.reports.rollup import day_start  # noqa: E402
from server.ingest.store import connect  # noqa: E402

WHEN = day_start(date(2026, 11, 5)) + 9 * 3600


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "server.db")
        seed.seed(db, 100_000, days=365, now=WHEN)
        rollup.rebuild(db.conn)
        t = time.perf_counter()
        data = reports.build(db.conn, figures.parse_period("2026-Q3"))
        build_ms = (time.perf_counter() - t) * 1000
        db.close()
    timings = {}
    for name, fn in (("docx", lambda: report_files.docx(data, "UBND xã Tân Lập")),
                     ("xlsx", lambda: report_files.xlsx(data, "UBND xã Tân Lập")),
                     ("csv", lambda: report_files.csv_bytes(data))):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t) * 1000)
        timings[f"report_{name}_ms"] = round(statistics.median(runs), 1)
    case = {"id": 1, "state": "closed", "outcome": "reminded", "occurred_at": WHEN,
            "reasons": ["harassment"], "dossier": "H1", "procedure": "Đăng ký khai sinh"}
    letter = letters.render("apology", case, commune_name="UBND xã Tân Lập",
                            official_name="Trần Thị Bình", when=WHEN)
    report = report_files.docx(data, "UBND xã Tân Lập")
    singles = []
    for _ in range(3):
        t = time.perf_counter()
        pdf.convert(letter)
        singles.append(time.perf_counter() - t)
    t = time.perf_counter()
    pdf.convert(report)
    report_pdf = time.perf_counter() - t
    batch = {f"l{i}": letter for i in range(9)} | {"r": report}
    t = time.perf_counter()
    pdf.convert_many(batch)
    batch_s = time.perf_counter() - t
    figures_ = {"ratings": 100_000, "report_build_ms": round(build_ms, 1), **timings,
                "letter_pdf_s_median": round(statistics.median(singles), 2),
                "report_pdf_s": round(report_pdf, 2),
                "ten_documents_one_run_s": round(batch_s, 2)}
    print(json.dumps(figures_))


if __name__ == "__main__":
    main()
