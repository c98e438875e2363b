"""The province dashboard: communes ranked by satisfaction, each commune's trend, the
SIPAS indices per commune and quarter, officials' figures for the roles that may see
them, and the period report to download.

Server-rendered (Flask, Jinja autoescape), Vietnamese first. Nothing but the login page
without a session; every POST carries the session's CSRF token (and a same-origin
check). Pages read only the day tables (province/store.py), never raw ratings, so they
stay fast at 20,000,000 ratings (bench/bench_province.py). Who sees what:
province/accounts.py and docs/province-guide.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from datetime import date, timedelta

from flask import (Flask, Response, abort, g, make_response, redirect, render_template,
                   request, url_for)
from jinja2 import DictLoader
from waitress.server import create_server

from hailong import sipas
from server.reports import figures, vnformat
from server.web import same_origin
from server.web.auth import _safe_next

from province import accounts, report, store
from province.templates import TEMPLATES

log = logging.getLogger(__name__)

COOKIE = "hailong_province"
PERIODS = {"30": ("30 ngày qua", "last 30 days", 30),
           "90": ("90 ngày qua", "last 90 days", 90),
           "365": ("12 tháng qua", "last 12 months", 365)}
MONTHS, QUARTERS = 13, 5  # the trend: a year and the same month / quarter a year before


def _month_back(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 - months
    return date(m // 12, m % 12 + 1, 1)


def quarter_key(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def recent_quarters(today: date, n: int) -> list[str]:
    start = _month_back(today, (today.month - 1) % 3)
    return [quarter_key(_month_back(start, 3 * i)) for i in range(n)]


def report_choices(today: date) -> list[figures.Period]:
    """Periods offered for the report: the last four quarters, the half-years and years."""
    keys = recent_quarters(today, 4)
    keys += [f"{today.year}-6M"] if today.month > 6 else []
    keys += [f"{today.year - 1}-6M", f"{today.year}", f"{today.year - 1}"]
    return [figures.parse_period(k, today) for k in keys]


def _filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        num=vnformat.number, day=vnformat.day,
        pct=lambda x: vnformat.percent(None if x is None else 100.0 * x),
        pct100=vnformat.percent,
        month=lambda d: f"{d.month:02d}/{d.year}",
        quarter=lambda d: f"Quý {(d.month - 1) // 3 + 1}/{d.year}")


def create_app(config, pool) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader(TEMPLATES)
    _filters(app)
    minimum = config.web.min_ratings
    today = lambda: store.local_day(time.time())  # noqa: E731

    @app.before_request
    def need_session():
        g.session = accounts.session_for(pool, request.cookies.get(COOKIE))
        g.user = g.session.user if g.session else None
        if request.endpoint in ("login", "static"):
            return None
        if g.session is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        if request.method == "POST" and not (
                same_origin(request) and accounts.csrf_ok(g.session,
                                                          request.form.get("csrf"))):
            abort(400, "csrf")
        return None

    @app.after_request
    def headers(resp):
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    def need(permission: str) -> None:
        if not g.user.can(permission):
            abort(403)

    def page(template: str, **kw) -> str:
        return render_template(template, user=g.user, csrf=g.session.csrf,
                               province=config.province.name, minimum=minimum, **kw)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            if g.session:
                return redirect(_safe_next(request.args.get("next")))
            return render_template("login.html", error=None,
                                   next=request.args.get("next", ""),
                                   province=config.province.name)
        if not same_origin(request):
            abort(400, "csrf")
        user, wait = accounts.authenticate(pool, request.form.get("username", "")[:64],
                                           request.form.get("password", "")[:256],
                                           request.remote_addr or "")
        if user is None:
            log.warning("failed province login for %r from %s%s", request.form.get(
                "username", "")[:64], request.remote_addr, " (waiting)" if wait else "")
            error = (f"Thử lại sau {math.ceil(wait)} giây · try again in "
                     f"{math.ceil(wait)} s" if wait else
                     "Sai tên đăng nhập hoặc mật khẩu · wrong username or password")
            return render_template("login.html", error=error, next=request.form.get(
                "next", ""), province=config.province.name), (429 if wait else 401)
        token, _ = accounts.start_session(pool, user, config.web.session_hours)
        log.info("province login: %s (%s) from %s", user.username, user.role,
                 request.remote_addr)
        resp = make_response(redirect(_safe_next(request.form.get("next"))))
        resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax",
                        secure=config.web.secure_cookies,
                        max_age=int(config.web.session_hours * 3600))
        return resp

    @app.post("/logout")
    def logout():
        accounts.end_session(pool, g.session)
        resp = make_response(redirect(url_for("login")))
        resp.delete_cookie(COOKIE)
        return resp

    @app.get("/")
    def ranking_page():
        need("communes")
        days = request.args.get("days", "90")
        if days not in PERIODS:
            days = "90"
        end = today() + timedelta(days=1)
        ranked, too_few = store.ranking(pool, minimum, since=end - timedelta(
            days=PERIODS[days][2]), until=end)
        return page("ranking.html", ranked=ranked, too_few=too_few, days=days,
                    periods=PERIODS, nav="ranking")

    def known_commune(commune: str) -> str:
        name = store.commune_name(pool, commune) if len(commune) <= 63 else None
        if name is None:
            abort(404)
        return name

    @app.get("/commune/<commune>")
    def commune_page(commune: str):
        need("communes")
        name = known_commune(commune)
        t = today()
        months = store.trend(pool, commune, "month", _month_back(t, MONTHS - 1), minimum)
        q_start = _month_back(t, (t.month - 1) % 3 + 3 * (QUARTERS - 1))
        quarters = store.trend(pool, commune, "quarter", q_start, minimum)
        by_q = store.sipas_by_quarter(pool, commune, q_start)
        sipas_rows = [(q, _indices(by_q[q], minimum)) for q in sorted(by_q, reverse=True)]
        return page("commune.html", commune=commune, name=name, months=months,
                    quarters=quarters, sipas_rows=sipas_rows, factors=sipas.FACTORS,
                    nav="ranking")

    @app.get("/commune/<commune>/officials")
    def officials_page(commune: str):
        # officials' figures: province-admin only, enforced here, not just hidden
        need("officials")
        name = known_commune(commune)
        days = request.args.get("days", "90")
        if days not in PERIODS:
            days = "90"
        end = today() + timedelta(days=1)
        shown, hidden = store.officials(pool, commune, end - timedelta(days=PERIODS[days][2]),
                                        end, config.web.min_official_ratings)
        return page("officials.html", commune=commune, name=name, shown=shown,
                    hidden=hidden, days=days, periods=PERIODS,
                    min_official=config.web.min_official_ratings, nav="ranking")

    @app.get("/sipas")
    def sipas_page():
        need("sipas")
        choices = recent_quarters(today(), 6)
        key = request.args.get("quarter", choices[0])
        if key not in choices:
            key = choices[0]
        period = figures.parse_period(key)
        counts = store.sipas_counts(pool, period.start, period.end)
        names = store.commune_names(pool)
        every_row = [(c, names.get(c) or c, _indices(f, minimum)) for c, f in counts.items()]
        rows = sorted((r for r in every_row if r[2]["overall"] is not None),
                      key=lambda r: (-r[2]["overall"], r[0]))
        too_few = sorted((c, name, sum(n for n, _ in counts[c].values()))
                         for c, name, s in every_row if s["overall"] is None)
        every: dict[str, list[int]] = {}
        for f in counts.values():
            for code, (n, s) in f.items():
                every.setdefault(code, [0, 0])
                every[code][0] += n
                every[code][1] += s
        return page("sipas.html", rows=rows, too_few=too_few, key=key, choices=choices, label=period.label(),
                    all=sipas.from_counts({k: tuple(v) for k, v in every.items()}),
                    factors=sipas.FACTORS, nav="sipas")

    @app.get("/reports")
    def reports_page():
        need("reports")
        return page("reports.html", choices=report_choices(today()), nav="reports")

    made_files: dict[str, bytes] = {}
    files_lock = threading.Lock()

    @app.get("/reports/<key>.<fmt>")
    def report_file(key: str, fmt: str):
        need("reports")
        if fmt not in ("xlsx", "docx", "pdf"):
            abort(404)
        try:
            period = report.parse_period(key)
        except figures.PeriodError:
            abort(404)
        data = report.build(pool, period, minimum)
        name = config.province.name
        make, mime = {"xlsx": (report.xlsx, report.XLSX_MIME),
                      "docx": (report.docx, report.DOCX_MIME),
                      "pdf": (report.pdf, "application/pdf")}[fmt]
        # Building the DOCX of 300 communes takes seconds (and the PDF LibreOffice's
        # start-up): the same figures on the same day make the same file, so it is kept.
        digest = hashlib.sha256(json.dumps([data, name, str(today()), fmt], default=str,
                                           sort_keys=True).encode()).hexdigest()
        with files_lock:
            body = made_files.get(digest)
        if body is None:
            body = make(data, name)
            with files_lock:
                made_files[digest] = body
                while len(made_files) > 24:
                    made_files.pop(next(iter(made_files)))
        return Response(body, mimetype=mime, headers={
            "Content-Disposition": f'attachment; filename="{report.file_name(data, fmt)}"'})

    return app


def _indices(counts: dict[str, tuple[int, int]], minimum: int) -> dict:
    """hailong.sipas's indices from the factors with at least ``minimum`` answers;
    ``short``: the factors left out for too few."""
    out = sipas.from_counts({f: c for f, c in counts.items() if c[0] >= minimum})
    out["short"] = sorted(f for f, c in counts.items() if 0 < c[0] < minimum)
    return out


class ProvinceWeb:
    def __init__(self, config, pool):
        self._server = create_server(create_app(config, pool), host=config.web.host,
                                     port=config.web.port, threads=8, ident="hailong")
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProvinceWeb:
        self._thread = threading.Thread(target=self._server.run, name="province-web",
                                        daemon=True)
        self._thread.start()
        log.info("province dashboard on http://%s:%s/", self._server.effective_host,
                 self._server.effective_port)
        return self

    def __exit__(self, *exc) -> None:
        self._server.close()
        if self._thread:
            self._thread.join(timeout=10)
