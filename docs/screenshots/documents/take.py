"""Pictures of a letter and of a quarterly report as they print, for the leader guide.

    .venv/bin/python docs/screenshots/documents/take.py

Seeds a throw-away store (a year and a half of ratings), renders an apology letter
and the Q3 2026 report exactly as the dashboard serves them, converts both to PDF
with LibreOffice in one run and saves the pages as PNG next to this file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from server.reports import figures, letters, pdf, files as report_files, report as reports, rollup  # noqa: E402
from server.ingest import seed
from server.reports.rollup import day_start  # noqa: E402
from server.ingest.store import connect  # noqa: E402

WHEN = day_start(date(2026, 11, 5)) + 9 * 3600
SETTINGS = letters.Settings(signer=letters.Signer("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                                                  "Nguyễn Văn Minh"))
COMMUNE = "UBND xã Tân Lập"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "server.db")
        seed.seed(db, 60_000, days=500, now=WHEN)
        rollup.rebuild(db.conn)
        names = dict(db.execute("SELECT id, name FROM officials")) if db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'officials'").fetchone() else {}
        data = reports.build(db.conn, figures.parse_period("2026-Q3"), names)
        db.close()
    case = {"id": 41, "state": "closed", "outcome": "reminded",
            "occurred_at": day_start(date(2026, 11, 3)) + 9.5 * 3600,
            "reasons": ["harassment", "long-wait"], "dossier": "000.31.12.H29-261103-0041",
            "procedure": "Cấp bản sao trích lục hộ tịch"}
    docs = {
        "letter-apology": letters.render(
            "apology", case, commune_name=COMMUNE, official_name="Trần Thị Bình", when=WHEN,
            settings=SETTINGS, addressee={"name": "Lê Thị Hoa",
                                          "address": "thôn Đông, xã Tân Lập"}),
        "report-2026-Q3": report_files.docx(data, COMMUNE, SETTINGS, when=WHEN),
    }
    for name, body in pdf.convert_many(docs).items():
        path = Path(tempfile.gettempdir()) / f"hailong-{name}.pdf"
        path.write_bytes(body)
        subprocess.run(["pdftoppm", "-png", "-r", "90", str(path), str(HERE / name)],
                       check=True)
        print(*sorted(HERE.glob(f"{name}*.png")), sep="\n")


if __name__ == "__main__":
    main()
