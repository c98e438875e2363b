"""Numbers and dates the way Vietnamese official documents write them.

'.' groups thousands and ',' is the decimal mark (TCVN / the vi_VN locale: 29.006;
86,1 %); dates are day/month/year with two-digit days and months (01/10/2026).
Done by hand rather than with Babel/locale: the server may run without the vi_VN
locale installed, and documents must come out the same everywhere.
"""

from __future__ import annotations

from datetime import date, datetime

from server.reports.rollup import LOCAL


def number(n: int | float | None) -> str:
    """29006 -> '29.006'; None -> '—'."""
    if n is None:
        return "—"
    return f"{int(round(n)):,}".replace(",", ".")


def decimal(x: float | None, places: int = 1) -> str:
    """86.14 -> '86,1'; 1234.5 -> '1.234,5'."""
    if x is None:
        return "—"
    whole, _, frac = f"{abs(x):,.{places}f}".partition(".")
    sign = "-" if x < 0 and float(f"{abs(x):.{places}f}") else ""
    return sign + whole.replace(",", ".") + ("," + frac if frac else "")


def percent(x: float | None, places: int = 1) -> str:
    """86.1 -> '86,1 %' (a space before the sign, as Vietnamese documents set it; a
    no-break space, so a line never starts with the '%')."""
    return "—" if x is None else f"{decimal(x, places)}\u00a0%"


def signed(x: float | None, places: int = 1, unit: str = "") -> str:
    """A change: '+3,2 điểm %', '-1.204', '0'."""
    if x is None:
        return "—"
    text = decimal(x, places) if places else number(x)
    if x > 0:
        text = "+" + text
    return f"{text}\u00a0{unit}" if unit else text


def day(d: date | datetime | float | None) -> str:
    """'01/10/2026' (a timestamp is read as a local time)."""
    if d is None:
        return "—"
    if isinstance(d, (int, float)):
        d = datetime.fromtimestamp(d, LOCAL)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def day_words(d: date | datetime) -> str:
    """'ngày 01 tháng 10 năm 2026'. Decree 30/2020 (Appendix I, II.5): days below 10
    and months below 3 take a leading zero (so 'tháng 02' but 'tháng 10')."""
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def moment(ts: float) -> str:
    """'14:05 ngày 01/10/2026'."""
    d = datetime.fromtimestamp(ts, LOCAL)
    return f"{d:%H:%M} ngày {day(d)}"
