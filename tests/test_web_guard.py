"""Issue 8, item 7: the dashboard against a stranger. ``next`` never leaves the site;
login throttling that counts a concurrent burst right and cannot lock the owner out;
every period parameter answers 400 (never 500) at calendar edges."""

from __future__ import annotations

import threading
from urllib.parse import quote, urljoin, urlsplit

import pytest

from server import accounts
from server.ingest.store import connect
from server.web import create_app

from dashboard_support import PASSWORD, add_users, load, login

HOST = "localhost"

NEXT_VARIANTS = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "\t//evil.example", "/\n/evil.example", "/\r\n/evil.example",
    " //evil.example", "https://evil.example", "HTTPS://evil.example", "https:evil.example",
    "http:/evil.example", "//evil.example/%2F..", "/%09/evil.example",
    "//evil.example@localhost", "javascript:alert(1)", "data:text/html,x",
    "\x00//evil.example", "/\\/evil.example", "evil.example", "..//evil.example",
    "/login?next=//evil.example", "//%65vil.example", "\u3000//evil.example",
    "%2F%2Fevil.example", "/%2F/evil.example", "%09//evil.example", "/%5Cevil.example",
    "https%3A%2F%2Fevil.example", "\u2215\u2215evil.example", "/\x0b/evil.example",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


def browser_target(location: str) -> tuple[str, str]:
    """Where a browser goes for this Location (WHATWG: it drops tabs and newlines, trims
    C0 and spaces, and reads a backslash as a slash in http(s) URLs)."""
    loc = location.strip("".join(map(chr, range(0x21))))
    loc = "".join(c for c in loc if c not in "\t\n\r").replace("\\", "/")
    url = urljoin(f"http://{HOST}/lang/en", loc)
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@pytest.fixture
def app(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    add_users(config)
    return create_app(config)


def test_next_never_leaves_the_site(app):
    client = app.test_client()
    for target in NEXT_VARIANTS:
        r = client.get(f"/lang/en?next={quote(target, safe='')}")
        assert r.status_code == 302, target
        assert browser_target(r.location) == ("http", HOST), (target, r.location)
    # the login form: the same rule for the POST and for a session that is already in
    login(client, "leader")
    for target in NEXT_VARIANTS:
        r = client.get(f"/login?next={quote(target, safe='')}")
        assert browser_target(r.location) == ("http", HOST), (target, r.location)
    fresh = app.test_client()
    for target in NEXT_VARIANTS[:6]:
        r = fresh.post("/login", data={"username": "office", "password": PASSWORD,
                                       "next": target})
        assert r.status_code == 302 and browser_target(r.location) == ("http", HOST), \
            (target, r.location)


def test_next_keeps_a_path_on_the_site(app):
    client = app.test_client()
    r = client.get("/lang/en?next=" + quote("/reports?period=2026-Q3#top", safe=""))
    assert r.location == "/reports?period=2026-Q3#top"
    r = client.post("/login", data={"username": "leader", "password": PASSWORD,
                                    "next": "/cases?state=all"})
    assert r.location == "/cases?state=all"


def _burst(app, n: int, username: str, headers: dict | None = None) -> list[int]:
    codes: list[int] = []
    lock = threading.Lock()
    gate = threading.Barrier(n)

    def one():
        client = app.test_client()
        gate.wait()
        r = client.post("/login", data={"username": username, "password": "wrong guess"},
                        headers=headers or {})
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(codes) == n
    return codes


def test_a_concurrent_burst_gets_only_the_free_guesses(app):
    codes = _burst(app, 16, "leader")
    assert codes.count(401) == accounts.FREE_FAILURES, codes  # heard (and wrong)
    assert codes.count(429) == 16 - accounts.FREE_FAILURES, codes


def test_a_stranger_cannot_lock_the_owner_out(app):
    owner = app.test_client()
    assert login(owner, "leader").status_code == 302  # this browser is now known
    token = owner.get_cookie("hailong_device", path="/login")
    assert token is not None
    owner.post("/logout", data={"csrf_token": _csrf(owner)})
    stranger = app.test_client()
    for _ in range(accounts.FREE_FAILURES + 6):  # the stranger's slow, steady guessing
        assert stranger.post("/login", data={"username": "leader", "password": "guess"}
                             ).status_code in (401, 429)
    assert stranger.post("/login", data={"username": "leader", "password": PASSWORD}
                         ).status_code == 429  # an unknown browser is slowed down
    # the owner's own browser goes straight in, at once
    assert login(owner, "leader").status_code == 302
    assert owner.get("/").status_code == 200


def _csrf(client) -> str:
    from dashboard_support import csrf_of
    return csrf_of(client.get("/").get_data(as_text=True))


def test_forwarded_address_only_when_configured(tmp_path, server_store):
    config = load(tmp_path, "trusted_proxies = 1\n", store=server_store)
    add_users(config)
    app = create_app(config)
    # behind the proxy: one stranger's failures do not slow down another address
    stranger = app.test_client()
    for _ in range(accounts.FREE_FAILURES + 2):
        stranger.post("/login", data={"username": "nobody", "password": "x"},
                      headers={"X-Forwarded-For": "203.0.113.66"})
    assert stranger.post("/login", data={"username": "nobody2", "password": "x"},
                         headers={"X-Forwarded-For": "203.0.113.66"}).status_code == 429
    office = app.test_client()
    assert office.post("/login", data={"username": "office", "password": PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 302

    # not configured: the header is ignored, so a forged one does not dodge the count
    (tmp_path / "plain").mkdir()
    config = load(tmp_path / "plain", store=server_store)
    add_users(config)
    plain = create_app(config)
    client = plain.test_client()
    codes = [client.post("/login", data={"username": f"u{i}", "password": "x"},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(accounts.FREE_FAILURES + 1)]
    assert codes[-1] == 429, codes


PERIOD_EDGES = ["0000-01", "0000", "9999", "9999-12", "9999-Q4", "9999-6M", "9999-9M",
                "0001-01", "1999-12", "2101", "10000", "-2026", "2026-00", "2026-13",
                "2026-Q0", "2026-Q5", "2026-12M", "٢٠٢٦", "２０２６", "2026\x00", "%00",
                "x" * 5000, "2026-1", " ", "nan", "1e9"]
PERIOD_ROUTES = ["/officials?period={}", "/officials/cb-an?period={}", "/counters?period={}",
                 "/fields?period={}", "/reports?period={}", "/api/v1/summary?period={}",
                 "/api/v1/breakdown/official?period={}", "/api/v1/breakdown/field?period={}",
                 "/api/v1/trend?period={}", "/api/v1/reasons?period={}",
                 "/api/v1/report?period={}"]
FILE_ROUTES = ["/reports/{}.xlsx", "/reports/{}.csv", "/reports/{}.docx"]


def test_every_period_parameter_answers_400_at_the_edges(app):
    client = app.test_client()
    login(client, "leader")
    for edge in PERIOD_EDGES:
        for route in PERIOD_ROUTES + FILE_ROUTES:
            if route in FILE_ROUTES and not edge.strip():
                continue  # "/reports/ .csv": no period at all
            url = route.format(quote(edge, safe=""))
            r = client.get(url)
            assert r.status_code == 400, (url[:80], r.status_code)
    for ok in ("2000-01", "2100-12", "2026-Q4", "2026"):
        assert client.get(f"/api/v1/summary?period={ok}").status_code == 200, ok
        assert client.get(f"/reports/{ok}.csv").status_code == 200, ok


def test_throttle_counts_are_one_transaction(tmp_path, server_store):
    """Library level: claims from many connections at once never exceed the free ones."""
    config = load(tmp_path, store=server_store)
    connect(config.store).close()
    got: list[float] = []
    lock = threading.Lock()
    gate = threading.Barrier(12)

    def one():
        db = connect(config.store)  # a connection of its own (SQLite or the pool's)
        gate.wait()
        wait = accounts.claim_login_try(db.conn, ["user:x", "addr:1.2.3.4"])
        db.close()
        with lock:
            got.append(wait)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(1 for w in got if w == 0) == accounts.FREE_FAILURES, got


def test_safe_next_property():
    """Whatever text comes in, the target a browser resolves stays on this site."""
    from hypothesis import given, settings, strategies as st

    from server.web.auth import _safe_next

    pieces = st.sampled_from(["/", "//", "\\", "\t", "\n", "\r", " ", ":", "@", "?", "#",
                              "%2F", "%5C", "%09", "http", "https", "evil.example", ".",
                              "\x00", "\u3000", "javascript", "login", "a"])
    texts = st.one_of(st.text(max_size=40), st.lists(pieces, max_size=12).map("".join))

    @settings(max_examples=600, deadline=None)
    @given(texts)
    def check(text):
        target = _safe_next(text)
        assert target.startswith("/") and not target.startswith("//")
        assert browser_target(target) == ("http", HOST), (text, target)

    check()
