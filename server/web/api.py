"""The JSON API: the same figures as the pages, with the same session and roles
(documented in docs/leader-guide.md). All GET; answers are plain JSON objects."""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from server.followup import alerts, cases as followup
from server.reports import figures, report as reports
from server.web import needs, periods, visibility
from server.web.pages import fleet_rows, names, queue_filters

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _period() -> figures.Period:
    try:
        return periods.parse(request.args.get("period"), "quarter",
                             start=request.args.get("from"), end=request.args.get("to"))
    except figures.PeriodError as e:
        abort(400, str(e))


@bp.route("/overview")
@needs("overview")
def overview():
    out = {key: {**figures.summary(g.db, figures.parse_period(key)),
                 "period": figures.parse_period(key).key}
           for key in ("today", "month", "quarter", "year")}
    out["cases"] = followup.counts(g.db)
    return out


@bp.route("/summary")
@needs("overview")
def summary():
    p = _period()
    return {"period": p.key, **figures.summary(g.db, p)}


@bp.route("/breakdown/<dim>")
def breakdown(dim: str):
    if dim not in figures.DIMENSIONS:
        abort(404)
    if not g.user.can("people" if dim in ("official", "counter", "kiosk") else "overview"):
        abort(403)
    p = _period()
    rows = figures.breakdown(g.db, p, dim)
    if dim == "official":
        n = names()
        for r in rows:
            r["name"] = n.get(r["key"], r["key"])
    return {"period": p.key, "by": dim, "rows": rows}


@bp.route("/trend")
@needs("overview")
def trend():
    p = _period()
    step = request.args.get("step", "auto")
    if step not in ("auto", "day", "month"):
        abort(400)
    filters = {}
    if official := request.args.get("official"):
        if not g.user.can("people"):
            abort(403)
        filters["official"] = official
    return {"period": p.key, "points": figures.trend(g.db, p, step, filters)}


@bp.route("/reasons")
@needs("overview")
def reasons():
    p = _period()
    return {"period": p.key, "low": figures.reasons(g.db, p),
            "high": figures.reasons(g.db, p, low=False)}


@bp.route("/report")
@needs("reports")
def report():
    return visibility.report_for(reports.build(g.db, _period(), names()), g.user)


@bp.route("/sipas")
@needs("reports")
def sipas_indices():
    """The SIPAS factor and overall indices of the period (issue 12)."""
    from server.ingest import sipas
    return sipas.indices(g.db, _period())


@bp.route("/cases")
@needs("followup")
def cases():
    f = queue_filters()
    per_page = min(500, max(1, request.args.get("per_page", 100, type=int)))
    rows, total = followup.search(g.db, per_page=per_page, **f)
    return {"state": f["state"], "counts": followup.counts(g.db), "cases": rows,
            "total": total, "page": f["page"], "per_page": per_page}


@bp.route("/cases/<int:case_id>")
@needs("followup")
def case(case_id: int):
    c = followup.get(g.db, case_id)
    if c is None:
        abort(404)
    return {"case": c, "notes": followup.notes(g.db, case_id)}


@bp.route("/fleet")
@needs("fleet")
def fleet():
    return {"kiosks": fleet_rows()}


@bp.route("/alerts")
@needs("alerts")
def alert_list():
    kinds = None if g.user.can("followup") else alerts.FLEET_KINDS
    return {"alerts": alerts.listing(g.db, kinds=kinds,
                                     include_acknowledged=request.args.get("all") == "1")}
