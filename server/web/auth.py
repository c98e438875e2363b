"""Log in, log out, language switch."""

from __future__ import annotations

import math

from flask import (Blueprint, abort, current_app, g, make_response, redirect,
                   render_template, request, url_for)

from .. import accounts
from . import COOKIE, LANG_COOKIE, same_origin
from .i18n import LANGS, translate

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would help phishing.
    if target and target.startswith("/") and not target.startswith("//") \
            and not target.startswith("/login"):
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    config = current_app.config["HAILONG"]
    if request.method == "GET":
        if g.session:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", error=None, next=request.args.get("next", ""))
    if not same_origin(request):
        abort(400, "csrf")
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:256]
    address = request.remote_addr or ""
    keys = [f"user:{username.strip().lower()}", f"addr:{address}"]
    wait = accounts.wait_before_login(g.db, keys)
    if wait > 0:
        msg = translate("slow_down", g.lang, n=math.ceil(wait))
        return render_template("login.html", error=msg, next=request.form.get("next", "")), 429
    user = accounts.authenticate(g.db, username, password, address)
    if user is None:
        return render_template("login.html", error=translate("bad_login", g.lang),
                               next=request.form.get("next", "")), 401
    token, _ = accounts.start_session(g.db, user, config.web.session_hours)
    target = _safe_next(request.form.get("next"))
    if target == "/" and user.role == "technician":
        target = url_for("pages.fleet")
    resp = make_response(redirect(target))
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax",
                    secure=config.web.secure_cookies,
                    max_age=int(config.web.session_hours * 3600))
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    accounts.end_session(g.db, g.session)
    resp = make_response(redirect(url_for("auth.login")))
    resp.delete_cookie(COOKIE)
    return resp


@bp.route("/lang/<code>")
def set_lang(code: str):
    if code not in LANGS:
        abort(404)
    resp = make_response(redirect(_safe_next(request.args.get("next"))))
    resp.set_cookie(LANG_COOKIE, code, samesite="Lax", max_age=365 * 86400)
    return resp
