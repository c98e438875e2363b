"""The province dashboard: communes ranked by satisfaction, with a minimum count.

Server-rendered (Flask, Jinja autoescape), Vietnamese first. It shows commune-level
figures only, no official's name or id and nothing personal, and has no login yet, so
it listens on 127.0.0.1 by default (docs/province-guide.md).
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, render_template_string, request
from waitress.server import create_server

from province import store

log = logging.getLogger(__name__)

PERIODS = {"30": ("30 ngày qua", "last 30 days", 30), "90": ("Quý gần nhất (90 ngày)",
           "last 90 days", 90), "365": ("12 tháng qua", "last 12 months", 365)}

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xếp hạng xã · Commune ranking</title>
<style>
body{font-family:"Noto Sans","DejaVu Sans",sans-serif;margin:1.5rem;color:#1b2733;background:#f5f7fa}
h1{font-size:1.6rem;margin:0 0 .2rem} .en{color:#5b6b7b;font-size:.9em}
nav a{margin-right:1rem} nav a.on{font-weight:700;text-decoration:none;color:#1b2733}
table{border-collapse:collapse;background:#fff;margin-top:1rem;min-width:32rem}
th,td{padding:.45rem .8rem;border-bottom:1px solid #dde3ea;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:#2e7d32;vertical-align:middle;margin-right:.4rem}
.low .bar{background:#c62828} .muted{color:#5b6b7b}
</style></head><body>
<h1>Xếp hạng mức độ hài lòng theo xã <span class="en">· Communes ranked by satisfaction</span></h1>
<p class="muted">{{ province or "" }} · tỷ lệ hài lòng = đánh giá ở hai mức cao nhất /
tổng số đánh giá (không tính đánh giá nghi vấn) · chỉ xếp hạng xã có ít nhất {{ minimum }}
đánh giá <span class="en">· satisfied share, suspect ratings excluded; ranked with at
least {{ minimum }} ratings; satisfied = the scale's top two levels</span></p>
<nav>{% for key, p in periods.items() %}<a href="?days={{ key }}" class="{{ 'on' if key == days }}">{{ p[0] }}</a>{% endfor %}</nav>
<table><thead><tr><th class="n">Hạng<br><span class="en">Rank</span></th><th>Xã<br><span class="en">Commune</span></th>
<th class="n">Số đánh giá<br><span class="en">Ratings</span></th><th>Tỷ lệ hài lòng<br><span class="en">Satisfied</span></th></tr></thead><tbody>
{% for r in ranked %}<tr class="{{ 'low' if r.satisfied < 0.5 }}"><td class="n">{{ loop.index }}</td><td>{{ r.commune }}</td>
<td class="n">{{ "{:,}".format(r.ratings).replace(",", ".") }}</td>
<td><span class="bar" style="width:{{ (r.satisfied * 12)|round(2) }}rem"></span>{{ "%.1f"|format(r.satisfied * 100) }}%</td></tr>
{% else %}<tr><td colspan="4" class="muted">Chưa có xã nào đủ số đánh giá · No commune has enough ratings yet</td></tr>{% endfor %}
</tbody></table>
{% if too_few %}<p class="muted">Chưa đủ {{ minimum }} đánh giá để xếp hạng <span class="en">· too few to rank</span>:
{% for r in too_few %}{{ r.commune }} ({{ r.ratings }}){{ ", " if not loop.last }}{% endfor %}</p>{% endif %}
</body></html>"""


def create_app(config, pool) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def ranking_page():
        days = request.args.get("days", "90")
        if days not in PERIODS:
            days = "90"
        ranked, too_few = store.ranking(pool, config.web.min_ratings,
                                        since=time.time() - PERIODS[days][2] * 86400)
        return render_template_string(PAGE, ranked=ranked, too_few=too_few, days=days,
                                      periods=PERIODS, minimum=config.web.min_ratings,
                                      province=config.province.name)

    return app


class ProvinceWeb:
    def __init__(self, config, pool):
        self._server = create_server(create_app(config, pool), host=config.web.host,
                                     port=config.web.port, threads=4, ident="hailong")
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
