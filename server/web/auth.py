"""Log in, log out, language switch."""

from __future__ import annotations

import math
from urllib.parse import urlsplit, urlunsplit

from flask import (Blueprint, abort, current_app, g, make_response, redirect,
                   render_template, request, url_for)

from server import accounts
from server.web import COOKIE, LANG_COOKIE, same_origin
from server.web.i18n import LANGS, translate

bp = Blueprint("auth", __name__)

DEVICE_COOKIE = "hailong_device"
DEVICE_DAYS = 180


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: an open redirect would help
    phishing. Parsed with urllib, not pattern-matched (issue 8): a browser drops tabs
    and newlines and reads ``\\`` as ``/``, so ``/<TAB>/evil`` and ``/\\evil`` are
    ``//evil``, another site; anything with a scheme or a host is refused too."""
    if not target or any(c in target for c in "\\\t\n\r") or \
            any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in target):
        return "/"
    try:
        parts = urlsplit(target)
    except ValueError:
        return "/"
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") \
            or path == "/login" or path.startswith("/login/"):
        return "/"
    return urlunsplit(("", "", path, parts.query, parts.fragment))


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
    # the proxy's X-Forwarded-For is honoured only with [web] trusted_proxies (ProxyFix)
    address = request.remote_addr or ""
    device = request.cookies.get(DEVICE_COOKIE)
    keys = accounts.login_keys(username, address,
                               accounts.device_key(g.db, device, username))
    wait = accounts.claim_login_try(g.db, keys)
    if wait > 0:
        msg = translate("slow_down", g.lang, n=math.ceil(wait))
        return render_template("login.html", error=msg, next=request.form.get("next", "")), 429
    user = accounts.authenticate(g.db, username, password, address, claimed=keys)
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
    # this browser is now known for this user: strangers cannot slow it down (issue 8)
    resp.set_cookie(DEVICE_COOKIE, accounts.remember_device(g.db, user.username, device),
                    httponly=True, samesite="Strict", secure=config.web.secure_cookies,
                    max_age=DEVICE_DAYS * 86400, path=url_for("auth.login"))
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
