"""Text from outside (a kiosk, the queue system, a roster edit) made safe to put in a
document the commune sends on: XLSX, CSV, DOCX reports and letters (issue 8, item 5).

Two dangers:

* **Formula injection**: a spreadsheet program runs a cell that starts with ``=``,
  ``+``, ``-``, ``@`` (or a tab / carriage return before one of them; LibreOffice and
  Excel also take the full-width forms ``＝ ＋ － ＠`` typed on East Asian keyboards).
  A procedure name ``=HYPERLINK("http://evil", "Bấm")`` would become a live link in
  the report sent to the province. XLSX cells are therefore written as text (string
  type, with Excel's "quote prefix" so re-editing the cell keeps it text) and CSV
  cells are escaped by the OWASP rule (a leading ``'``; the csv module quotes).
  https://owasp.org/www-community/attacks/CSV_Injection
* **Control characters**: openpyxl and python-docx refuse characters XML 1.0 cannot
  carry (``IllegalCharacterError`` / ``ValueError``), which made a whole quarter's
  report answer 500. They are removed; tab, CR and LF become a space. Bidirectional
  overrides (U+202A-E, U+2066-9) go too: they can make a printed name read backwards.

Reports and letters call :func:`clean` on their input and :func:`harden_workbook` /
:func:`csv_writer` on their output, so a rewrite of either keeps the guarantee with
one call each.
"""

from __future__ import annotations

import csv
import re
from typing import Any

# C0 and C1 controls, DEL, lone surrogates, the two XML non-characters, bidi controls.
_DROP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
                   "\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile("[\t\n\r]")
_ANY = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
# First characters a spreadsheet reads as the start of a formula (OWASP's list plus the
# full-width and small forms, and the minus sign that pastes as a minus).
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without control characters; tab/CR/LF become one space (LF kept when
    ``keep_newlines``, for multi-line notes)."""
    if not _ANY.search(text):  # nearly every text: one scan, no copy
        return text
    if keep_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        return _DROP.sub("", text)
    return _DROP.sub("", _SPACE.sub(" ", text))


def clean(value: Any) -> Any:
    """A copy of ``value`` (str, or dicts / lists / tuples of them, e.g. a report's
    data or a follow-up case) with every string passed through :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean(v) for v in value)
    return value


def is_formula(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula? (Leading spaces are skipped:
    some programs trim them before looking.)"""
    stripped = text.lstrip(" \u00a0\u3000")
    return bool(stripped) and (stripped[0] in FORMULA_START or text[0] in FORMULA_START)


def csv_cell(value: Any) -> Any:
    """One CSV field, escaped the OWASP way: text that would start a formula gets a
    leading apostrophe (the csv writer adds the quotes the field then needs)."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    return "'" + value if is_formula(value) else value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kw) -> _SafeWriter:
    """``csv.writer(out)`` whose every field goes through :func:`csv_cell`."""
    return _SafeWriter(csv.writer(out, **kw))


def harden_workbook(wb) -> None:
    """Make every text cell of an openpyxl workbook plain text: no formulas (a report
    writes none of its own), no control characters. Call just before saving."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                if _ANY.search(value):
                    value = clean_text(value)
                    cell.value = value
                if cell.data_type == "f" or is_formula(value):
                    cell.value = value
                    cell.data_type = "s"  # openpyxl made it a formula on assignment
                    cell.quotePrefix = True  # Excel keeps it text when it is edited
