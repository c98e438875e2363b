"""The official's counter page (issue 9): an official types or scans (a USB barcode
scanner types like a keyboard, then Enter) the dossier code of the citizen just
served and presses "Mời đánh giá"; the kiosk at their counter then asks that citizen
to rate that official for that dossier.

Role ``official`` only (``counter_page``): the page shows no rating and no figure.
The session goes through :func:`server.ingest.feed.open_session`, the same checks and the
same path as the HTTP API.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from server.ingest import feed
from server.web import needs

bp = Blueprint("counter", __name__)


@bp.route("/counter", methods=["GET", "POST"])
@needs("counter_page")
def page():
    official = feed.official_of(g.db, g.user.username)
    counters = feed.counters_for(g.db, official) if official else []
    chosen = request.values.get("counter") or (counters[0]["id"] if counters else "")
    error = None
    if request.method == "POST":
        config = current_app.config["HAILONG"]
        dossier = " ".join(request.form.get("dossier", "").split())[:200]
        where = next((c for c in counters if c["id"] == chosen), None)
        if official is None or where is None:
            abort(403)
        if not dossier:
            error = ("dossier_required", {})
        elif not re.fullmatch(config.feed.dossier_pattern, dossier):
            error = ("dossier_bad", {"dossier": dossier})
        else:
            try:
                req = feed.SessionRequest(kiosk=where["kiosk"], counter=where["id"],
                                          dossier=dossier, official=official)
                answer = feed.open_session(
                    g.db, config, req, source=f"official:{g.user.username}",
                    publish=current_app.extensions.get("hailong_publisher") or _no_broker)
            except feed.NotPublished:
                error = ("send_failed", {})
            except feed.FeedError as e:  # e.g. the official was taken off the roster
                error = ("raw", {"text": str(e)})
            else:
                return redirect(url_for("counter.page", counter=chosen, sent=dossier,
                                        session=answer["id"]))
    return render_template("counter.html", official=official, counters=counters,
                           chosen=chosen, error=error, sent=request.args.get("sent")), \
        (422 if error else 200)


def _no_broker(commune: str, kiosk: str, payload: bytes) -> None:
    raise feed.NotPublished("this server has no MQTT connection for sessions")
