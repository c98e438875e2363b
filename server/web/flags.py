"""``/flags``: ratings the server's own rules held back (server/ingest/door.py), and a
leader's button to let a group of them count (the same as ``hailong server
confirm-flags``). Leaders only: it names officials."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from server import accounts
from server.ingest import door
from server.web import needs

bp = Blueprint("flags", __name__)


@bp.route("/flags")
@needs("people")
def flag_list():
    return render_template("flags.html", groups=door.open_flags(g.db))


@bp.route("/flags/confirm", methods=["POST"])
@needs("people")
def flag_confirm():
    rule = request.form.get("rule", "")
    if rule not in door.EXCLUDING:
        abort(400)
    kiosk = request.form.get("kiosk") or None
    official = request.form.get("official") or None
    # one row of the page: that kiosk and that official (or none)
    counted = door.confirm(g.db, rule=rule, by=g.user.username, kiosk=kiosk,
                           official=official, no_official=official is None)
    door.open_cases_for(g.db, counted, current_app.config["HAILONG"].followup)
    accounts.audit(g.db, g.user.username, "confirm-flags", official or kiosk or rule,
                   {"rule": rule, "kiosk": kiosk, "official": official,
                    "counted": len(counted)})
    return redirect(url_for("flags.flag_list"))
