"""The leaders' dashboard: a Flask app rendered on the server, every asset local.

``create_app(config)`` builds it; ``server/service.py`` serves it with waitress next
to ingest. Every page but ``/login`` needs a session (a random token in an HttpOnly
cookie, looked up in the store); every POST needs the session's CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``). The login form itself carries no
session yet, so it is guarded by an Origin check instead.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from server import accounts
from server.ingest import engine
from server.ingest.store import connect
from server.web.i18n import LANGS, translate

log = logging.getLogger(__name__)

COOKIE = "hailong_session"
LANG_COOKIE = "hailong_lang"
# feed.create_session authorises by an integration token, not by a login (issue 9)
OPEN_ENDPOINTS = {"auth.login", "static", "auth.set_lang", "photos.photo",
                  "feed.create_session"}


class Databases:
    """One store connection per server thread (waitress reuses its threads): SQLite, or
    one from the PostgreSQL pool (server/ingest/engine.py)."""

    def __init__(self, store):
        self.store = store
        self.path = engine.target(store)
        connect(store).close()  # create or upgrade the schema once, up front
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.store).conn  # the store's pragmas, as every connection
            self._local.conn = conn
        return conn


def needs(permission: str):
    """Route decorator: the signed-in user's role must allow ``permission``."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if not g.user.can(permission):
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


def create_app(config, publisher=None) -> Flask:
    """``publisher`` sends sessions to kiosks (:class:`server.ingest.feed.MqttPublisher`);
    without one, starting a session answers 503."""
    app = Flask(__name__)
    app.config["HAILONG"] = config
    app.extensions["hailong_publisher"] = publisher
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["hailong_db"] = Databases(config.store)
    if config.web.trusted_proxies:
        # only then is X-Forwarded-For believed: behind the recommended reverse proxy every
        # client would otherwise share the proxy's address in the login throttle (issue 8)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.web.trusted_proxies)

    @app.before_request
    def load_session():
        g.db = app.extensions["hailong_db"].get()
        lang = request.cookies.get(LANG_COOKIE, "vi")
        g.lang = lang if lang in LANGS else "vi"
        g.session = accounts.session_for(g.db, request.cookies.get(COOKIE))
        g.user = g.session.user if g.session else None
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        if g.session is None:
            if request.path.startswith("/api/"):
                return {"error": "login required"}, 401
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if request.method == "POST":
            given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
            if not accounts.csrf_ok(g.session, given):
                log.warning("refused a POST to %s without a valid CSRF token from %s",
                            request.path, g.user.username)
                abort(400, "csrf")
        return None

    @app.after_request
    def headers(resp):
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.context_processor
    def helpers():
        return {"_": lambda key, **kw: translate(key, g.lang, **kw), "lang": g.lang,
                "user": g.user,
                "csrf_token": g.session.csrf if g.get("session") else "",
                "commune_name": config.server.commune_name or config.server.commune}

    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, _error_page)

    from server.web import api, auth, counter, documents, feed, pages, photos, reasons, users
    app.register_blueprint(feed.bp)
    app.register_blueprint(counter.bp)
    app.register_blueprint(photos.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(reasons.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(documents.bp)
    from server.web import flags  # ratings held back by the server's own rules (issue 8)
    app.register_blueprint(flags.bp)
    return app


def _error_page(e):
    if request.path.startswith("/api/"):
        return {"error": e.name}, e.code
    key = {403: "forbidden", 404: "not_found"}.get(e.code, "")
    if e.code == 400 and e.description == "csrf":
        key = "csrf"
    return render_template("error.html", code=e.code, key=key,
                           text=e.description if not key else ""), e.code


def same_origin(req) -> bool:
    """A cross-site POST carries a foreign Origin (or Referer); refuse it."""
    origin = req.headers.get("Origin") or req.headers.get("Referer")
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == req.host
