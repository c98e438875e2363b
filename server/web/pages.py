"""The dashboard pages (server-rendered; names and notes escaped by Jinja)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request,
                   url_for)


from server.followup import alerts, workdays
from server.followup import cases as followup
from server.reports import figures, vnformat
from server.reports import periods as report_periods
from server.reports import report as reports
from server import accounts
from server.fleet import kiosks as fleet_store
from server.reports.rollup import LOCAL, day_start, local_day
from server.web import audit_words, charts, documents, needs, periods, visibility
from server.web.i18n import alert_text, translate
from server.web.reasons import reason_label

bp = Blueprint("pages", __name__)

PERIOD_CHOICES = ("today", "month", "quarter", "year")


def _(key: str, **kw) -> str:
    return translate(key, g.lang, **kw)


@bp.app_template_filter("when")
def when(ts: float | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return datetime.fromtimestamp(ts, LOCAL).strftime(fmt) if ts else "—"


@bp.app_template_filter("pct")
def pct(rate: float | None) -> str:
    """86,1 % in Vietnamese (as the reports write it), 86.1% in English."""
    if g.get("lang", "vi") == "vi":
        return vnformat.percent(rate)
    return "—" if rate is None else f"{rate:.1f}%"


@bp.app_template_filter("points")
def points(change: float | None) -> str:
    """A change in percentage points, signed: +1,2 / -0,6 (vi), +1.2 / -0.6 (en)."""
    if change is None:
        return "—"
    return vnformat.signed(change) if g.get("lang", "vi") == "vi" else f"{change:+.1f}"


def names() -> dict[str, str]:
    """Official id -> name from the roster (issue 5's ``officials`` table)."""
    cached = g.get("_names")
    if cached is None:
        cached = dict(g.db.execute("SELECT id, name FROM officials"))
        g._names = cached
    return cached


def counter_name(counter: str | None) -> str:
    """'q1 — Tư pháp - Hộ tịch' when the roster (issue 5's ``counters``) names it."""
    if not counter:
        return "—"
    cached = g.get("_counters")
    if cached is None:
        cached = dict(g.db.execute("SELECT id, name FROM counters WHERE name != ''"))
        g._counters = cached
    name = cached.get(counter)
    return f"{counter} — {name}" if name else counter


def official_name(official: str | None) -> str:
    if not official:
        return "—"
    return names().get(official, official)


def _period(default: str = "quarter") -> figures.Period:
    # Any page's period: a key, last month/quarter/year, or a from–to range (periods.py).
    try:
        return periods.parse(request.args.get("period"), default,
                             start=request.args.get("from"), end=request.args.get("to"))
    except figures.PeriodError as e:
        abort(400, str(e))  # a bad parameter, never a 500 (issue 8)


@bp.app_context_processor
def page_helpers():
    return {"official_name": official_name, "counter_name": counter_name,
            "alert_text": lambda a: alert_text(
                a, g.lang, names(), when(a["payload"].get("last_seen"), "%H:%M %d/%m")),
            "rate_bar": charts.rate_bar,
            "period_choices": PERIOD_CHOICES, "now": time.time(),
            "period_quick": periods.choices(), "previous_period": periods.previous,
            "period_link": _period_link,
            "audit_text": lambda a: audit_words.describe(a, g.lang),
            "days_left": _days_left,
            "alerts_open": _alerts_open() if g.get("user") else 0}


def _period_link(key: str) -> str:
    """This page with another period (other filters kept, the range fields dropped)."""
    args = {k: v for k, v in request.args.items() if k not in ("period", "from", "to", "page")}
    args["period"] = key
    return request.path + "?" + urlencode(args)


def _days_left(deadline: float) -> int:
    """Working days from today to a deadline (negative: that many past it)."""
    return workdays.working_days_between(local_day(time.time()), local_day(deadline))


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
    # The third card, the lowest three and the reasons follow the period selector
    # (this quarter unless another period or range is chosen).
    quarter = _period("quarter")
    chosen = "this_quarter" if quarter == figures.parse_period("quarter") else None
    for key, title in (("today", "today"), ("month", "this_month"), (quarter, chosen)):
        p = key if isinstance(key, figures.Period) else figures.parse_period(key)
        title = _(title) if title else p.label(g.lang)
        before = periods.previous(p)
        now_fig, prev_fig = figures.summary(conn, p), figures.summary(conn, before)
        cards.append({"title": title, "period": p, **now_fig, "previous": before,
                      "prev_rate": prev_fig["rate"], "prev_count": prev_fig["count"],
                      "change": periods.change(now_fig["rate"], prev_fig["rate"])})
    today = local_day(time.time())
    last30 = figures.Period("last30", today.fromordinal(today.toordinal() - 29),
                            today.fromordinal(today.toordinal() + 1))
    daily = figures.trend(conn, last30, "day")
    months = figures.trend(conn, figures.last_months(today), "month")
    config = current_app.config["HAILONG"]
    min_n = config.web.lowest_min_ratings
    lowest = []
    if g.user.can("people"):  # the office role's rule: no per-official figures
        lowest = [r for r in figures.breakdown(conn, quarter, "official")
                  if r["key"] and r["count"] >= min_n and r["rate"] is not None]
        lowest.sort(key=lambda r: (r["rate"], -r["count"]))
        lowest = lowest[:3]
    overdue, n_overdue = followup.search(conn, state="overdue", per_page=10)
    return render_template(
        "overview.html", cards=cards,
        chart30=charts.pair(
            charts.trend(daily, labels=_labels(daily), title=_("trend_30"), width=960),
            charts.trend(daily, labels=_labels(daily), title=_("trend_30"), width=360,
                         phone=True)),
        chart12=charts.pair(
            charts.trend(months, labels=_labels(months), title=_("trend_12")),
            charts.trend(months, labels=_labels(months), title=_("trend_12"), width=360,
                         phone=True)),
        cases=followup.counts(conn),
        reasons=charts.hbars([(reason_label(r["code"]), r["count"])
                              for r in figures.reasons(conn, quarter)][:8]),
        quarter=quarter, period=quarter, lowest=lowest, min_ratings=min_n, overdue=overdue,
        n_overdue=n_overdue)


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
        chart=charts.pair(*(charts.trend(own, labels=_labels(own), reference=ref,
                                         title=f"{official_name(official)} — "
                                               f"{_('trend_12')}", **kw)
                            for kw in ({}, {"width": 360, "phone": True}))),
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

PER_PAGE = 50


def queue_filters() -> dict:
    """The follow-up queue's filters from the query string (page and API alike)."""
    state = request.args.get("state", "active")
    if state not in ("active", "overdue", "all", *followup.STATES):
        abort(404)
    since = until = None
    try:
        if d := request.args.get("from", "").strip():
            since = day_start(date.fromisoformat(d))
        if d := request.args.get("to", "").strip():
            until = day_start(date.fromisoformat(d) + timedelta(days=1))
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400)
    return {"state": state, "official": request.args.get("official", "").strip() or None,
            "assignee": request.args.get("assignee", "").strip() or None,
            "since": since, "until": until, "page": page}


def _users() -> list[str]:
    return sorted(r[0] for r in g.db.execute(
        "SELECT username FROM users WHERE disabled = 0 AND role IN ('leader', 'office')"))


@bp.route("/cases")
@needs("followup")
def cases():
    f = queue_filters()
    rows, total = followup.search(g.db, per_page=PER_PAGE, **f)
    pages = max(1, -(-total // PER_PAGE))
    officials = sorted(r[0] for r in g.db.execute(
        "SELECT DISTINCT official FROM cases WHERE official IS NOT NULL"))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("cases.html", state=f["state"], now=time.time(),
                           cases=rows, counts=followup.counts(g.db), total=total,
                           page=f["page"], pages=pages, args=args, officials=officials,
                           users=_users(), f=f)


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
    users = [u for u in _users() if not own_case(c, u)]  # nobody is given their own case
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
            assignee = request.form.get("assignee", "").strip()
            if assignee and own_case(c, assignee):
                raise followup.CaseError(_("own_case_assignee"))
            followup.assign(g.db, case_id, assignee, by)
            if assignee and assignee != by:  # tell the assignee (alert, and e-mail)
                config = current_app.config["HAILONG"]
                alerts.case_assigned(g.db, config.alerts, followup.get(g.db, case_id),
                                     assignee, by)
        elif action == "deadline":
            try:
                day = date.fromisoformat(request.form.get("deadline", ""))
            except ValueError:
                raise followup.CaseError(_("change_deadline") + ": ?") from None
            followup.set_deadline(
                g.db, case_id, datetime.combine(day, workdays.CLOSE_OF_DAY, LOCAL).timestamp(),
                request.form.get("reason", ""), by)
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
    return fleet_store.fleet_view(g.db)  # a connection: sqlite-utils' wrapper is SQLite's


@bp.route("/fleet")
@needs("fleet")
def fleet():
    from server.ingest import forward  # issue 12: the province backlog beside the kiosks'
    return render_template("fleet.html", rows=fleet_rows(), now=time.time(),
                           forward_backlog=forward.backlog(g.db),
                           forward_oldest=forward.oldest_waiting(g.db),
                           forward_refused=forward.refused(g.db),
                           forward_on=current_app.config["HAILONG"].province.enabled)


def _alert_kinds():
    return None if g.user.can("followup") else alerts.FLEET_KINDS


@bp.route("/alerts")
@needs("alerts")
def alert_list():
    show_all = request.args.get("all") == "1"
    return render_template("alerts.html", show_all=show_all,
                           alerts=alerts.listing(g.db, kinds=_alert_kinds(),
                                                 include_acknowledged=show_all))


@bp.route("/alerts/ack", methods=["POST"])
@needs("alerts")
def alert_ack_many():
    try:
        ids = [int(i) for i in request.form.getlist("alert")]
    except ValueError:
        abort(400)
    alerts.acknowledge_many(g.db, ids, g.user.username, request.form.get("comment", ""),
                            kinds=_alert_kinds())
    return redirect(url_for("pages.alert_list"))


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
    # Only periods that have begun (no future quarter), the last three months across a
    # new year, and last year's quarters too (issue 10).
    months = [f"{periods._shift_months(today.replace(day=1), -i):%Y-%m}" for i in range(3)]
    quarters = [f"{yy}-Q{q}" for yy in (y, y - 1) for q in range(4, 0, -1)
                if date(yy, 3 * q - 2, 1) <= today]
    choices = months + quarters + [f"{y}-6M", f"{y}-9M", str(y), str(y - 1), str(y - 2)]
    data = visibility.report_for(reports.build(g.db, period, names()), g.user)
    from server.ingest import sipas  # the SIPAS survey indices of the period (issue 12)
    # the official Decree 09/2019 periods (15th to 14th) beside the calendar ones
    return render_template("reports.html", period=period, data=data,
                           choices=[figures.parse_period(c) for c in choices]
                           + report_periods.choices(today),
                           sipas=sipas.indices(g.db, period)["all"])


@bp.route("/reports/<key>.<fmt>")
@needs("reports")
def report_file(key: str, fmt: str):
    return documents.report_file(key, fmt)  # issue 10: server/web/documents.py
