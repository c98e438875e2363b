"""Charts as inline SVG, drawn on the server: nothing to download, no script, and
readable on a phone (they scale with ``viewBox``). Colours come from the stylesheet
through class names, so the charts follow the page's theme.

Every text that goes into the SVG is escaped here (names can hold anything).
"""

from __future__ import annotations

from markupsafe import Markup, escape


def rate_bar(rate: float | None, reference: float | None = None, width: int = 120) -> Markup:
    """A small horizontal bar for a satisfaction rate, with a tick at ``reference``."""
    if rate is None:
        return Markup("")
    w = max(0.0, min(100.0, rate)) * width / 100
    cls = "good" if rate >= 80 else "warn" if rate >= 60 else "bad"
    tick = ""
    if reference is not None:
        x = reference * width / 100
        tick = f'<line class="ref" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="14"/>'
    return Markup(f'<svg class="rbar" viewBox="0 0 {width} 14" width="{width}" height="14" '
                  f'role="img" aria-label="{rate:.1f}%"><rect class="bg" width="{width}" '
                  f'height="14" rx="3"/><rect class="{cls}" width="{w:.1f}" height="14" '
                  f'rx="3"/>{tick}</svg>')


def pair(wide: Markup, narrow: Markup) -> Markup:
    """A chart drawn twice, one shown on a desktop and one on a phone (CSS picks): an
    SVG scales its text with its width, so one drawing 960 units wide shows 11-unit
    labels at 4 px on a 390 px phone (issue 10). The phone's drawing is ~360 units wide
    with larger type, so it renders at scale ~1 and every label stays ≥ 12 px."""
    return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}'
                  '</div>')


def trend(points: list[dict], *, labels: list[str], title: str,
          reference: list[float | None] | None = None, width: int = 640,
          height: int = 220, phone: bool = False) -> Markup:
    """Bars for the number of ratings, a line for the satisfaction rate (right axis,
    0-100 %), red marks for low ratings; an optional dashed reference line (e.g. the
    whole commune's rate against one official's)."""
    left, right, top, bottom = (44, 44, 14, 34) if phone else (34, 34, 12, 30)
    pw, ph = width - left - right, height - top - bottom
    n = max(1, len(points))
    step = pw / n
    peak = max([p["count"] for p in points] + [1])
    parts = [f'<svg class="trend{" phone" if phone else ""}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        y = top + ph * (1 - frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text class="axis" x="{left + pw + 4}" y="{y + 4:.1f}">'
                     f'{int(frac * 100)}%</text><text class="axis" x="{left - 4}" '
                     f'y="{y + 4:.1f}" text-anchor="end">{round(peak * frac)}</text>')
    line, ref_line = [], []
    every = max(1, -(-n // (4 if phone else 8)))
    for i, p in enumerate(points):
        x = left + i * step
        h = p["count"] / peak * ph
        parts.append(f'<rect class="count" x="{x + step * 0.15:.1f}" y="{top + ph - h:.1f}" '
                     f'width="{step * 0.7:.1f}" height="{h:.1f}"><title>{escape(labels[i])}: '
                     f'{p["count"]}</title></rect>')
        if p.get("low"):
            hl = p["low"] / peak * ph
            parts.append(f'<rect class="lowbar" x="{x + step * 0.15:.1f}" '
                         f'y="{top + ph - hl:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{hl:.1f}"/>')
        cx = x + step / 2
        if p.get("rate") is not None:
            line.append(f"{cx:.1f},{top + ph * (1 - p['rate'] / 100):.1f}")
        if reference and reference[i] is not None:
            ref_line.append(f"{cx:.1f},{top + ph * (1 - reference[i] / 100):.1f}")
        if i % every == 0:
            parts.append(f'<text class="axis" x="{cx:.1f}" y="{height - 10}" '
                         f'text-anchor="middle">{escape(labels[i])}</text>')
    if ref_line:
        parts.append(f'<polyline class="refline" points="{" ".join(ref_line)}"/>')
    if line:
        parts.append(f'<polyline class="rateline" points="{" ".join(line)}"/>')
        for pt in line:
            x, y = pt.split(",")
            parts.append(f'<circle class="ratedot" cx="{x}" cy="{y}" r="2.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(items: list[tuple[str, int]], width: int = 600, cls: str = "low",
          phone: bool | None = None) -> Markup:
    """Horizontal bars with labels (reasons and their counts); by default both the
    desktop drawing and the phone's (label above its bar), see ``pair``."""
    if not items:
        return Markup("")
    if phone is None:
        return pair(hbars(items, width, cls, False), hbars(items, 340, cls, True))
    peak = max(n for _, n in items) or 1
    if phone:
        row = 46
        parts = [f'<svg class="hbars phone" viewBox="0 0 {width} {row * len(items)}" '
                 'role="img">']
        for i, (label, n) in enumerate(items):
            y = i * row
            w = n / peak * (width - 60)
            parts.append(f'<text class="lbl" x="0" y="{y + 17}">{escape(label)}</text>'
                         f'<rect class="{cls}" x="0" y="{y + 24}" width="{w:.1f}" '
                         f'height="16" rx="3"/><text class="val" x="{w + 4:.1f}" '
                         f'y="{y + 38}">{n}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))
    row = 26
    label_w = 330
    parts = [f'<svg class="hbars" viewBox="0 0 {width} {row * len(items)}" role="img">']
    for i, (label, n) in enumerate(items):
        y = i * row
        w = n / peak * (width - label_w - 40)
        parts.append(f'<text class="lbl" x="{label_w - 6}" y="{y + 17}" text-anchor="end">'
                     f'{escape(label)}</text><rect class="{cls}" x="{label_w}" y="{y + 5}" '
                     f'width="{w:.1f}" height="16" rx="3"/><text class="val" '
                     f'x="{label_w + w + 4:.1f}" y="{y + 17}">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
