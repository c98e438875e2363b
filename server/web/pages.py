"""The dashboard pages (server-rendered; names and notes escaped by Jinja)."""

from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

import sqlite_utils

from .. import accounts, alerts, figures, followup, reports
from .. import fleet as fleet_store
from ..rollup import LOCAL, local_day
from . import charts, documents, needs
from .i18n import alert_text, translate
from .reasons import reason_label

bp = Blueprint("pages", __name__)

PERIOD_CHOICES = ("today", "month", "quarter", "year")


def _(key: str, **kw) -> str:
    return translate(key, g.lang, **kw)


@bp.app_template_filter("when")
def when(ts: float | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return datetime.fromtimestamp(ts, LOCAL).strftime(fmt) if ts else "—"


@bp.app_template_filter("pct")
def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}%"


def names() -> dict[str, str]:
    """Official id -> name from the roster (issue 5's ``officials`` table) if present."""
    cached = g.get("_names")
    if cached is None:
        cols = {r[1] for r in g.db.execute("PRAGMA table_info(officials)")}
        cached = dict(g.db.execute("SELECT id, name FROM officials")) \
            if {"id", "name"} <= cols else {}
        g._names = cached
    return cached


def counter_name(counter: str | None) -> str:
    """'q1 — Tư pháp - Hộ tịch' when the roster (issue 5's ``counters``) names it."""
    if not counter:
        return "—"
    cached = g.get("_counters")
    if cached is None:
        cols = {r[1] for r in g.db.execute("PRAGMA table_info(counters)")}
        cached = dict(g.db.execute("SELECT id, name FROM counters WHERE name != ''")) \
            if {"id", "name"} <= cols else {}
        g._counters = cached
    name = cached.get(counter)
    return f"{counter} — {name}" if name else counter


def official_name(official: str | None) -> str:
    if not official:
        return "—"
    return names().get(official, official)


def _period(default: str = "quarter") -> figures.Period:
    try:
        return figures.parse_period(request.args.get("period", default))
    except figures.PeriodError as e:
        abort(400, str(e))  # a bad parameter, never a 500 (issue 8)


@bp.app_context_processor
def page_helpers():
    return {"official_name": official_name, "counter_name": counter_name,
            "alert_text": lambda a: alert_text(
                a, g.lang, names(), when(a["payload"].get("last_seen"), "%H:%M %d/%m")),
            "rate_bar": charts.rate_bar,
            "period_choices": PERIOD_CHOICES, "now": time.time(),
            "alerts_open": _alerts_open() if g.get("user") else 0}


def _alerts_open() -> int:
    kinds = None if g.user.can("followup") else alerts.FLEET_KINDS
    if not g.user.can("alerts"):
        return 0
    return alerts.open_count(g.db, kinds)


def _labels(points: list[dict]) -> list[str]:
    out = []
    for p in points:
        k = p["key"]
        out.append(f"{k[8:10]}/{k[5:7]}" if len(k) == 10 else f"{k[5:7]}/{k[2:4]}")
    return out


@bp.route("/")
def overview():
    if not g.user.can("overview"):
        if g.user.can("counter_page"):  # an official: only the counter page (issue 9)
            return redirect(url_for("counter.page"))
        return redirect(url_for("pages.fleet"))
    conn = g.db
    cards = []
    for key, title in (("today", "today"), ("month", "this_month"),
                       ("quarter", "this_quarter")):
        p = figures.parse_period(key)
        cards.append({"title": _(title), "period": p, **figures.summary(conn, p)})
    today = local_day(time.time())
    last30 = figures.Period("last30", today.fromordinal(today.toordinal() - 29),
                            today.fromordinal(today.toordinal() + 1))
    daily = figures.trend(conn, last30, "day")
    months = figures.trend(conn, figures.last_months(today), "month")
    quarter = figures.parse_period("quarter")
    return render_template(
        "overview.html", cards=cards,
        chart30=charts.trend(daily, labels=_labels(daily), title=_("trend_30"), width=960),
        chart12=charts.trend(months, labels=_labels(months), title=_("trend_12")),
        cases=followup.counts(conn),
        reasons=charts.hbars([(reason_label(r["code"]), r["count"])
                              for r in figures.reasons(conn, quarter)][:8]),
        quarter=quarter)


@bp.route("/officials")
@needs("people")
def officials():
    period = _period()
    commune = figures.summary(g.db, period)
    rows = figures.breakdown(g.db, period, "official")
    rows.sort(key=lambda r: (r["rate"] is None, r["rate"] or 0))
    return render_template("officials.html", period=period, commune=commune, rows=rows)


@bp.route("/officials/<official>")
@needs("people")
def official(official: str):
    period = _period()
    conn = g.db
    mine = figures.summary(conn, period, {"official": official})
    commune = figures.summary(conn, period)
    today = local_day(time.time())
    year = figures.last_months(today)
    own = figures.trend(conn, year, "month", {"official": official})
    ref = [p["rate"] for p in figures.trend(conn, year, "month")]
    if not mine["count"] and not any(p["count"] for p in own) and official not in names():
        abort(404)
    return render_template(
        "official.html", official=official, period=period, mine=mine, commune=commune,
        chart=charts.trend(own, labels=_labels(own), reference=ref,
                           title=f"{official_name(official)} — {_('trend_12')}"),
        reasons=charts.hbars([(reason_label(r["code"]), r["count"]) for r in
                              figures.reasons(conn, period, official=official)]),
        praise=charts.hbars([(reason_label(r["code"]), r["count"]) for r in
                             figures.reasons(conn, period, low=False, official=official)],
                            cls="high"),
        cases=followup.queue(conn, official=official, limit=50),
        procedures=figures.breakdown(conn, period, "procedure", {"official": official}))


@bp.route("/counters")
@needs("people")
def counters():
    period = _period()
    return render_template(
        "breakdown.html", period=period, title=_("counters"),
        commune=figures.summary(g.db, period),
        tables=[(_("figures_by_counter"), "counter",
                 figures.breakdown(g.db, period, "counter")),
                (_("figures_by_kiosk"), "kiosk", figures.breakdown(g.db, period, "kiosk"))])


@bp.route("/fields")
@needs("overview")
def fields():
    period = _period()
    return render_template(
        "breakdown.html", period=period, title=_("fields"),
        commune=figures.summary(g.db, period),
        tables=[(_("figures_by_field"), "field", figures.breakdown(g.db, period, "field")),
                (_("figures_by_procedure"), "procedure",
                 figures.breakdown(g.db, period, "procedure"))])


# --- follow-up -------------------------------------------------------------------------

@bp.route("/cases")
@needs("followup")
def cases():
    state = request.args.get("state", "active")
    if state not in ("active", "overdue", "all", *followup.STATES):
        abort(404)
    return render_template("cases.html", state=state, now=time.time(),
                           cases=followup.queue(g.db, state=state),
                           counts=followup.counts(g.db))


def own_case(case: dict, username: str | None = None) -> bool:
    """Is this case about the user (linked to the case's official, issue 8)? Such a user
    may read it, but not act on it, see the citizen's number or be assigned it."""
    if not case.get("official"):
        return False
    if username is None:
        return g.user.official == case["official"]
    row = g.db.execute("SELECT official FROM users WHERE username = ?", [username]).fetchone()
    return bool(row) and row[0] == case["official"]


@bp.route("/cases/<int:case_id>")
@needs("followup")
def case(case_id: int):
    c = followup.get(g.db, case_id)
    if c is None:
        abort(404)
    own = own_case(c)
    contact = followup.contact(g.db, c) if g.user.can("contact") and not own else None
    if contact:
        accounts.audit(g.db, g.user.username, "case.contact-viewed", f"case:{case_id}", {})
    users = [r[0] for r in g.db.execute(
        "SELECT username FROM users WHERE disabled = 0 AND role IN ('leader', 'office') "
        "AND (official IS NULL OR official IS NOT ?) ORDER BY username", [c["official"]])]
    return render_template("case.html", case=c, contact=contact, now=time.time(), own=own,
                           notes=followup.notes(g.db, case_id), users=users,
                           outcomes=followup.OUTCOMES,
                           trail=accounts.audit_trail(g.db, f"case:{case_id}"))


@bp.route("/cases/<int:case_id>", methods=["POST"])
@needs("followup")
def case_action(case_id: int):
    action = request.form.get("action", "")
    by = g.user.username
    c = followup.get(g.db, case_id)
    if c is None:
        abort(404)
    if own_case(c):
        abort(403)
    try:
        if action == "assign":
            assignee = request.form.get("assignee", "")
            if assignee and own_case(c, assignee):
                raise followup.CaseError(_("own_case_assignee"))
            followup.assign(g.db, case_id, assignee, by)
        elif action == "note":
            followup.add_note(g.db, case_id, request.form.get("text", ""), by)
        elif action == "close":
            followup.close(g.db, case_id, request.form.get("outcome", ""), by,
                           request.form.get("text", ""))
        elif action == "reopen":
            followup.reopen(g.db, case_id, by)
        else:
            abort(400)
    except followup.CaseError as e:
        return redirect(url_for("pages.case", case_id=case_id, error=str(e)))
    return redirect(url_for("pages.case", case_id=case_id, saved=1))


@bp.route("/cases/<int:case_id>/letter-<kind>.<fmt>")
@needs("followup")
def letter(case_id: int, kind: str, fmt: str):
    return documents.letter_file(case_id, kind, fmt)  # issue 10: server/web/documents.py


# --- fleet, alerts, audit --------------------------------------------------------------

def fleet_rows() -> list[dict]:
    """Issue 5's fleet view: enrolled kiosks and kiosks heard from, with health."""
    return fleet_store.fleet_view(sqlite_utils.Database(g.db))


@bp.route("/fleet")
@needs("fleet")
def fleet():
    return render_template("fleet.html", rows=fleet_rows(), now=time.time())


def _alert_kinds():
    return None if g.user.can("followup") else alerts.FLEET_KINDS


@bp.route("/alerts")
@needs("alerts")
def alert_list():
    show_all = request.args.get("all") == "1"
    return render_template("alerts.html", show_all=show_all,
                           alerts=alerts.listing(g.db, kinds=_alert_kinds(),
                                                 include_acknowledged=show_all))


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@needs("alerts")
def alert_ack(alert_id: int):
    if not alerts.acknowledge(g.db, alert_id, g.user.username,
                              request.form.get("comment", ""), kinds=_alert_kinds()):
        abort(404)
    return redirect(url_for("pages.alert_list"))


@bp.route("/audit")
@needs("audit")
def audit():
    return render_template("audit.html", rows=accounts.audit_trail(g.db, limit=500))


# --- reports ---------------------------------------------------------------------------

@bp.route("/reports")
@needs("reports")
def report():
    period = _period("quarter")
    today = local_day(time.time())
    y = today.year
    choices = [f"{y}-{m:02d}" for m in range(today.month, 0, -1)][:3] + \
        [f"{y}-Q{q}" for q in range(1, 5)] + [f"{y}-6M", f"{y}-9M", str(y), str(y - 1)]
    data = reports.build(g.db, period, names())
    return render_template("reports.html", period=period, data=data,
                           choices=[figures.parse_period(c) for c in choices])


@bp.route("/reports/<key>.<fmt>")
@needs("reports")
def report_file(key: str, fmt: str):
    return documents.report_file(key, fmt)  # issue 10: server/web/documents.py
