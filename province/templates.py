"""The province dashboard's page templates (Jinja, autoescaped), Vietnamese first with
the English beneath in grey. Kept as strings beside the code: the package has no data
files to install."""

BASE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · Hài Lòng tỉnh</title>
<style>
*{box-sizing:border-box}
body{font-family:"Noto Sans","DejaVu Sans",sans-serif;margin:0;color:#1b2733;background:#f5f7fa;font-size:15px}
header{background:#123c69;color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem}
header b{font-size:1.05rem} header a{color:#fff;text-decoration:none;padding:.25rem .1rem}
header a.on{border-bottom:3px solid #ffd54f} header .who{margin-left:auto;font-size:.85rem;opacity:.9}
header form{display:inline} header button{background:none;border:1px solid #fff8;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{padding:1rem 1.2rem;max-width:84rem}
h1{font-size:1.45rem;margin:.2rem 0 .3rem} h2{font-size:1.15rem;margin:1.4rem 0 .3rem}
.en{color:#5b6b7b;font-size:.85em;font-weight:400} .muted{color:#5b6b7b}
nav.tabs a{display:inline-block;margin:.2rem .4rem .2rem 0;padding:.3rem .7rem;border:1px solid #c5d0db;border-radius:4px;background:#fff;color:#123c69;text-decoration:none}
nav.tabs a.on{background:#123c69;color:#fff;border-color:#123c69}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;background:#fff;margin-top:.6rem;min-width:100%}
th,td{padding:.45rem .7rem;border-bottom:1px solid #dde3ea;text-align:left;white-space:nowrap}
th{background:#eef2f6;font-size:.85rem;vertical-align:bottom}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:#2e7d32;vertical-align:middle;margin-right:.4rem;border-radius:2px}
.low .bar{background:#c62828} .mid .bar{background:#f9a825}
a{color:#0b5cad}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:.5rem .8rem;margin:.8rem 0}
.files a{display:inline-block;margin-right:.6rem} td.w{white-space:normal}
@media (max-width:600px){main{padding:.7rem}.bar{display:none}th,td{padding:.4rem .35rem;white-space:normal}td.n{white-space:nowrap}h1{font-size:1.2rem}header{padding:.5rem .7rem}}
</style></head><body>
<header><b>Hài Lòng · {{ province or "Sở Nội vụ" }}</b>
<a href="/" class="{{ 'on' if nav == 'ranking' }}">Xếp hạng xã</a>
<a href="/sipas" class="{{ 'on' if nav == 'sipas' }}">Chỉ số SIPAS</a>
<a href="/reports" class="{{ 'on' if nav == 'reports' }}">Báo cáo</a>
<span class="who">{{ user.username }} ({{ "quản trị tỉnh" if user.role == "province-admin" else "xem" }})
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}"><button>Đăng xuất</button></form></span>
</header><main>{% block main %}{% endblock %}</main></body></html>"""

LOGIN = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Đăng nhập · Hài Lòng tỉnh</title>
<style>
body{font-family:"Noto Sans","DejaVu Sans",sans-serif;margin:0;background:#123c69;color:#1b2733;display:flex;min-height:100vh;align-items:center;justify-content:center}
form{background:#fff;padding:1.6rem;border-radius:8px;width:min(24rem,92vw)}
h1{font-size:1.3rem;margin:0 0 .2rem} .en{color:#5b6b7b;font-size:.85em}
label{display:block;margin-top:.9rem;font-weight:600}
input{width:100%;padding:.6rem;font-size:1rem;margin-top:.25rem;border:1px solid #9aa8b6;border-radius:4px;box-sizing:border-box}
button{font:inherit;font-weight:600;margin-top:1.2rem;width:100%;padding:.7rem;font-size:1.05rem;background:#123c69;color:#fff;border:0;border-radius:4px}
.err{background:#fdecea;color:#8e1b1b;padding:.5rem;border-radius:4px;margin-top:.8rem}
</style></head><body>
<form method="post" action="/login">
<h1>Hài Lòng · {{ province or "Sở Nội vụ" }}</h1>
<div class="en">Bảng theo dõi của tỉnh · province dashboard</div>
{% if error %}<div class="err">{{ error }}</div>{% endif %}
<input type="hidden" name="next" value="{{ next }}">
<label>Tên đăng nhập <span class="en">· username</span><input name="username" autocomplete="username" autofocus></label>
<label>Mật khẩu <span class="en">· password</span><input name="password" type="password" autocomplete="current-password"></label>
<button>Đăng nhập · Log in</button></form></body></html>"""

RANKING = """{% extends "base.html" %}{% block title %}Xếp hạng xã{% endblock %}{% block main %}
<h1>Xếp hạng mức độ hài lòng theo xã <span class="en">· Communes ranked by satisfaction</span></h1>
<p class="muted">Tỷ lệ hài lòng = đánh giá ở hai mức cao nhất / tổng số đánh giá (không tính
đánh giá nghi vấn); chỉ xếp hạng xã có ít nhất {{ minimum }} đánh giá trong kỳ.
<span class="en">Satisfied share, suspect ratings excluded; ranked with at least {{ minimum }} ratings.</span></p>
<nav class="tabs">{% for key, p in periods.items() %}<a href="?days={{ key }}" class="{{ 'on' if key == days }}">{{ p[0] }}</a>{% endfor %}</nav>
<div class="wrap"><table><thead><tr><th class="n">Hạng<br><span class="en">Rank</span></th><th>Xã<br><span class="en">Commune</span></th>
<th class="n">Số đánh giá<br><span class="en">Ratings</span></th><th>Tỷ lệ hài lòng<br><span class="en">Satisfied</span></th>
<th class="n">Không hài lòng<br><span class="en">Low</span></th></tr></thead><tbody>
{% for r in ranked %}<tr class="{{ 'low' if r.satisfied < 0.5 else ('mid' if r.satisfied < 0.7) }}"><td class="n">{{ loop.index }}</td>
<td><a href="/commune/{{ r.commune }}">{{ r.name or r.commune }}</a></td>
<td class="n">{{ r.ratings|num }}</td>
<td><span class="bar" style="width:{{ (r.satisfied * 8)|round(2) }}rem"></span>{{ r.satisfied|pct }}</td>
<td class="n">{{ r.low|pct }}</td></tr>
{% else %}<tr><td colspan="5" class="muted">Chưa có xã nào đủ số đánh giá · No commune has enough ratings yet</td></tr>{% endfor %}
</tbody></table></div>
{% if too_few %}<p class="muted">Chưa đủ {{ minimum }} đánh giá để xếp hạng <span class="en">· too few to rank</span>:
{% for r in too_few %}<a href="/commune/{{ r.commune }}">{{ r.name or r.commune }}</a> ({{ r.ratings|num }}){{ ", " if not loop.last }}{% endfor %}</p>{% endif %}
{% endblock %}"""

COMMUNE = """{% extends "base.html" %}{% block title %}{{ name or commune }}{% endblock %}{% block main %}
<p><a href="/">← Xếp hạng xã</a></p>
<h1>{{ name or commune }} <span class="en">· {{ commune }}</span></h1>
<p class="muted">Tỷ lệ chỉ hiện khi tháng/quý có ít nhất {{ minimum }} đánh giá (—: quá ít).
<span class="en">Shares only where a month or quarter has at least {{ minimum }} ratings.</span>
{% if user.can("officials") %} · <a href="/commune/{{ commune }}/officials">Theo công chức (mã) · by official</a>{% endif %}</p>
<h2>Theo tháng <span class="en">· by month, last 13 months</span></h2>
<div class="wrap"><table><thead><tr><th>Tháng<br><span class="en">Month</span></th><th class="n">Số đánh giá<br><span class="en">Ratings</span></th>
<th>Tỷ lệ hài lòng<br><span class="en">Satisfied</span></th><th class="n">Không hài lòng<br><span class="en">Low</span></th>
<th class="n">Nghi vấn<br><span class="en">Suspect</span></th></tr></thead><tbody>
{% for m in months %}<tr class="{{ 'low' if m.enough and m.satisfied < 0.5 else ('mid' if m.enough and m.satisfied < 0.7) }}"><td>{{ m.start|month }}</td><td class="n">{{ m.ratings|num }}</td>
<td>{% if m.enough %}<span class="bar" style="width:{{ (m.satisfied * 8)|round(2) }}rem"></span>{% endif %}{{ m.satisfied|pct }}</td>
<td class="n">{{ m.low|pct }}</td><td class="n">{{ m.suspect|num }}</td></tr>
{% else %}<tr><td colspan="5" class="muted">Chưa có đánh giá · no ratings yet</td></tr>{% endfor %}
</tbody></table></div>
<h2>Theo quý <span class="en">· by quarter</span></h2>
<div class="wrap"><table><thead><tr><th>Quý<br><span class="en">Quarter</span></th><th class="n">Số đánh giá<br><span class="en">Ratings</span></th>
<th class="n">Tỷ lệ hài lòng<br><span class="en">Satisfied</span></th><th class="n">Không hài lòng<br><span class="en">Low</span></th></tr></thead><tbody>
{% for q in quarters %}<tr><td>{{ q.start|quarter }}</td><td class="n">{{ q.ratings|num }}</td><td class="n">{{ q.satisfied|pct }}</td><td class="n">{{ q.low|pct }}</td></tr>{% endfor %}
</tbody></table></div>
<h2>Chỉ số SIPAS theo quý <span class="en">· SIPAS indices by quarter</span></h2>
{% if sipas_rows %}<div class="wrap"><table><thead><tr><th>Quý</th>{% for code, vi, en in factors %}<th class="n">{{ vi }}<br><span class="en">{{ en }}</span></th>{% endfor %}
<th class="n">Chỉ số chung<br><span class="en">Overall</span></th><th class="n">Câu trả lời<br><span class="en">Answers</span></th></tr></thead><tbody>
{% for q, s in sipas_rows %}<tr><td>{{ q|quarter }}</td>{% for code, vi, en in factors %}<td class="n">{{ s.factors[code].index|pct100 if code in s.factors else "—" }}</td>{% endfor %}
<td class="n"><b>{{ s.overall|pct100 }}</b></td><td class="n">{{ s.answers|num }}</td></tr>{% endfor %}</tbody></table></div>
{% else %}<p class="muted">Xã chưa có câu trả lời khảo sát SIPAS · no SIPAS answers yet</p>{% endif %}
{% endblock %}"""

OFFICIALS = """{% extends "base.html" %}{% block title %}Công chức · {{ commune }}{% endblock %}{% block main %}
<p><a href="/commune/{{ commune }}">← {{ name or commune }}</a></p>
<h1>Kết quả theo công chức <span class="en">· by official</span> — {{ name or commune }}</h1>
<p class="note">Mỗi công chức hiện bằng một mã ẩn danh (p-…): họ tên và mã của xã không chuyển
lên tỉnh; chỉ xã biết mã nào là ai. Chỉ hiện công chức có ít nhất {{ min_official }} đánh giá trong kỳ.
<span class="en">Each official appears under a pseudonym (p-…): names and the commune's ids stay at the commune, which alone can tell who is who. Only officials with at least {{ min_official }} ratings.</span></p>
<nav class="tabs">{% for key, p in periods.items() %}<a href="?days={{ key }}" class="{{ 'on' if key == days }}">{{ p[0] }}</a>{% endfor %}</nav>
<div class="wrap"><table><thead><tr><th>Mã công chức<br><span class="en">Official id</span></th><th class="n">Số đánh giá<br><span class="en">Ratings</span></th>
<th>Tỷ lệ hài lòng<br><span class="en">Satisfied</span></th><th class="n">Không hài lòng<br><span class="en">Low</span></th></tr></thead><tbody>
{% for r in shown %}<tr class="{{ 'low' if r.satisfied < 0.5 else ('mid' if r.satisfied < 0.7) }}"><td>{{ r.official or "(không ghi)" }}</td><td class="n">{{ r.ratings|num }}</td>
<td><span class="bar" style="width:{{ (r.satisfied * 8)|round(2) }}rem"></span>{{ r.satisfied|pct }}</td><td class="n">{{ r.low|pct }}</td></tr>
{% else %}<tr><td colspan="4" class="muted">Không có công chức nào đủ số đánh giá · none with enough ratings</td></tr>{% endfor %}
</tbody></table></div>
{% if hidden %}<p class="muted">{{ hidden }} công chức có ít hơn {{ min_official }} đánh giá, không hiện riêng · {{ hidden }} with fewer not shown</p>{% endif %}
{% endblock %}"""

SIPAS = """{% extends "base.html" %}{% block title %}Chỉ số SIPAS{% endblock %}{% block main %}
<h1>Chỉ số SIPAS theo xã — {{ label }} <span class="en">· SIPAS indices by commune</span></h1>
<p class="muted">Chỉ số mỗi yếu tố = tỷ lệ câu trả lời hài lòng trở lên; chỉ số chung = trung bình
các yếu tố (Quyết định 1001/QĐ-BNV). Yếu tố có dưới {{ minimum }} câu trả lời không tính (—).
<span class="en">Factor index = share of satisfied answers; overall = mean of the factors; fewer than {{ minimum }} answers: not computed.</span></p>
<nav class="tabs">{% for q in choices %}<a href="?quarter={{ q }}" class="{{ 'on' if q == key }}">{{ q }}</a>{% endfor %}</nav>
<div class="wrap"><table><thead><tr><th>Xã<br><span class="en">Commune</span></th>{% for code, vi, en in factors %}<th class="n">{{ vi }}<br><span class="en">{{ en }}</span></th>{% endfor %}
<th class="n">Chỉ số chung<br><span class="en">Overall</span></th><th class="n">Câu trả lời<br><span class="en">Answers</span></th></tr></thead><tbody>
{% for c, name, s in rows %}<tr><td><a href="/commune/{{ c }}">{{ name }}</a></td>{% for code, vi, en in factors %}<td class="n">{{ s.factors[code].index|pct100 if code in s.factors else "—" }}</td>{% endfor %}
<td class="n"><b>{{ s.overall|pct100 }}</b></td><td class="n">{{ s.answers|num }}</td></tr>
{% else %}<tr><td colspan="8" class="muted">Chưa có câu trả lời khảo sát trong quý · no survey answers this quarter</td></tr>{% endfor %}
{% if rows %}<tr><td><b>Toàn tỉnh</b></td>{% for code, vi, en in factors %}<td class="n">{{ all.factors[code].index|pct100 if code in all.factors else "—" }}</td>{% endfor %}
<td class="n"><b>{{ all.overall|pct100 }}</b></td><td class="n">{{ all.answers|num }}</td></tr>{% endif %}
</tbody></table></div>
{% if too_few %}<p class="muted">Chưa đủ {{ minimum }} câu trả lời cho yếu tố nào <span class="en">· too few answers</span>:
{% for c, name, n in too_few %}<a href="/commune/{{ c }}">{{ name }}</a> ({{ n|num }}){{ ", " if not loop.last }}{% endfor %}</p>{% endif %}
{% endblock %}"""

REPORTS = """{% extends "base.html" %}{% block title %}Báo cáo{% endblock %}{% block main %}
<h1>Báo cáo định kỳ <span class="en">· period report</span></h1>
<p class="muted">Xếp hạng các xã theo tỷ lệ hài lòng, số lượt đánh giá và chỉ số SIPAS; chỉ số
liệu cấp xã. <span class="en">Communes ranked with counts, satisfaction and SIPAS indices; commune-level figures only.</span></p>
<div class="wrap"><table><thead><tr><th>Kỳ báo cáo<br><span class="en">Period</span></th><th>Tệp<br><span class="en">Files</span></th></tr></thead><tbody>
{% for p in choices %}<tr><td class="w">{{ p.label() }}<br><span class="muted">({{ p.start|day }}–{{ (p.end.fromordinal(p.end.toordinal() - 1))|day }})</span></td>
<td class="files"><a href="/reports/{{ p.key }}.xlsx">XLSX</a><a href="/reports/{{ p.key }}.docx">DOCX</a><a href="/reports/{{ p.key }}.pdf">PDF</a></td></tr>{% endfor %}
</tbody></table></div>{% endblock %}"""

TEMPLATES = {"base.html": BASE, "login.html": LOGIN, "ranking.html": RANKING,
             "commune.html": COMMUNE, "officials.html": OFFICIALS, "sipas.html": SIPAS,
             "reports.html": REPORTS}
