"""Letters to the citizen (issue 10): Decree 30/2020 header in two lines with rules, a
blank number for the clerk, content by outcome and by reason, nothing printed for
what the case does not know, the addressee and the signer; the case page's form."""

from __future__ import annotations

import io
import re
from datetime import date

import docx
import pytest

from server.followup import cases as followup
from server.reports import letters
from server.reports.rollup import day_start
from server.web import create_app

from helpers import both_stores
from dashboard_support import add_users, csrf_of, load, login, rating, store_ratings

WHEN = day_start(date(2026, 11, 5)) + 3600
SIGNER = letters.Settings(signer=letters.Signer("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
                                                "Nguyễn Văn Minh"))


def case(**kw) -> dict:
    base = {"id": 12, "state": "closed", "outcome": "apologised",
            "occurred_at": day_start(date(2026, 11, 3)) + 9 * 3600, "reasons": ["long-wait"],
            "dossier": "000.31.12.H29-261103-0007", "procedure": "Đăng ký khai sinh"}
    return {**base, **kw}


def text_of(kind: str, c: dict, official: str | None = "Trần Thị Bình", **kw) -> tuple[str, str, str]:
    d = docx.Document(io.BytesIO(letters.render(
        kind, c, commune_name="UBND xã Tân Lập", official_name=official, when=WHEN, **kw)))
    header = "\n".join(cell.text for cell in d.tables[0].rows[0].cells)
    body = "\n".join(p.text for p in d.paragraphs)
    sign = "\n".join(cell.text for cell in d.tables[-1].rows[0].cells)
    return header, body, sign


def test_header_number_and_signer():
    header, _, sign = text_of("apology", case(), settings=SIGNER)
    assert header.startswith("ỦY BAN NHÂN DÂN\nXÃ TÂN LẬP\n")
    assert re.search(r"Số: +/UBND", header) and "12" not in header.split("Số:")[1][:12]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc" in header
    assert "Tân Lập, ngày 05 tháng 11 năm 2026" in header
    assert "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH" in sign and sign.rstrip().endswith("Nguyễn Văn Minh")
    d = docx.Document(io.BytesIO(letters.render("apology", case(), commune_name="UBND xã Tân Lập",
                                                official_name=None)))
    xml = d.tables[0].rows[0].cells[0]._tc.xml + d.tables[0].rows[0].cells[1]._tc.xml
    assert xml.count("<w:pBdr>") == 2  # the rule under the body and under the motto
    assert 'w:u w:val="single"' not in xml  # ruled, not underlined


def test_apology_follows_the_reason():
    _, fee, _ = text_of("apology", case(reasons=["harassment"]))
    assert "thu phí ngoài quy định" in fee and "hoàn trả" in fee
    assert "chậm trễ" not in fee and "chờ đợi" not in fee
    _, wait, _ = text_of("apology", case(reasons=["long-wait", "many-trips"]))
    assert "chờ đợi lâu và để Ông/Bà phải đi lại nhiều lần" in wait
    assert "thu phí" not in wait
    _, none, _ = text_of("apology", case(reasons=[]))
    assert "những thiếu sót" in none


def test_content_follows_the_outcome():
    _, reminded, _ = text_of("apology", case(outcome="reminded"))
    assert "có cơ sở" in reminded and "nhắc nhở, chấn chỉnh công chức Trần Thị Bình" in reminded
    _, apologised, _ = text_of("apology", case(outcome="apologised"))
    assert "xin lỗi" in apologised and "nhắc nhở" not in apologised
    _, unfounded, _ = text_of("reply", case(outcome="unfounded"))
    assert "THƯ TRẢ LỜI" in unfounded and "không có cơ sở" in unfounded
    assert "xin lỗi" not in unfounded.lower() and "chấn chỉnh" not in unfounded
    _, explained, _ = text_of("reply", case(outcome="explained"))
    assert "giải thích" in explained and "xin lỗi" not in explained.lower()
    _, thanks, _ = text_of("thanks", case(state="open", outcome=None))
    assert "THƯ CẢM ƠN" in thanks and "chấn chỉnh" not in thanks and "kiểm tra" not in thanks


@pytest.mark.parametrize("kind,c", [
    ("apology", case(state="open", outcome=None)),
    ("apology", case(outcome="unfounded")),
    ("apology", case(outcome="explained")),
    ("reply", case(state="in-progress", outcome=None)),
    ("reply", case(outcome="apologised")),
])
def test_a_letter_that_does_not_fit_the_case_is_refused(kind, c):
    with pytest.raises(letters.LetterError):
        letters.render(kind, c, commune_name="UBND xã Tân Lập", official_name="x")


def test_nothing_printed_for_what_is_missing():
    bare = case(dossier=None, procedure=None, reasons=[])
    for kind in ("apology", "thanks"):
        _, body, sign = text_of(kind, bare, official=None)
        for bad in ("—", "hồ sơ số", "\u201cthủ tục hành chính\u201d", "công chức —",
                    "công chức None", "None"):
            assert bad not in body + sign, (kind, bad)
        assert "ngày 03/11/2026" in body


def test_addressee_name_and_address():
    _, body, _ = text_of("apology", case(), addressee={"name": "Lê Thị Hoa",
                                                       "address": "thôn Đông, xã Tân Lập"})
    assert "Kính gửi: Ông/Bà Lê Thị Hoa\nĐịa chỉ: thôn Đông, xã Tân Lập" in body
    _, body, _ = text_of("apology", case())
    assert "Kính gửi: Ông/Bà có hồ sơ số 000.31.12.H29-261103-0007" in body


@both_stores
def test_case_page_form_sets_the_addressee_and_offers_the_fitting_letters(tmp_path, server_store):
    config = load(tmp_path, '[documents]\nsigner_name = "Nguyễn Văn Minh"\n', store=server_store)
    add_users(config)
    store_ratings(config, [rating(1, reasons=("harassment",))])
    from server.ingest.store import connect
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    client = create_app(config).test_client()
    login(client, "office")
    page = client.get("/cases/1").get_data(as_text=True)
    assert "/cases/1/letters/thanks.docx" in page and "letters/apology" not in page
    r = client.post("/cases/1/addressee", data={"csrf_token": csrf_of(page),
                                               "name": "  Lê   Thị Hoa ",
                                               "address": "thôn Đông"})
    assert r.status_code == 302
    assert client.post("/cases/1/addressee", data={"name": "x"}).status_code == 400  # CSRF
    followup.close(db.conn, 1, "reminded", "office")
    page = client.get("/cases/1").get_data(as_text=True)
    assert 'value="Lê Thị Hoa"' in page and "/cases/1/letters/apology.docx" in page
    r = client.get("/cases/1/letters/apology.docx")
    assert r.status_code == 200 and r.headers["Content-Type"] == letters.DOCX_MIME
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(r.data)).paragraphs)
    sign = "\n".join(c.text for c in docx.Document(io.BytesIO(r.data)).tables[-1].rows[0].cells)
    assert "Kính gửi: Ông/Bà Lê Thị Hoa" in body and "thu phí ngoài quy định" in body
    assert "Nguyễn Văn Minh" in sign
    # A reply does not fit a case closed as valid: back to the case with the reason.
    r = client.get("/cases/1/letters/reply.docx")
    assert r.status_code == 302 and "error=" in r.location
    trail = db.execute("SELECT action, detail FROM audit WHERE target = 'case:1'").fetchall()
    assert ("case.addressee", '{"name": true, "address": true}') in trail
    assert "Hoa" not in str(trail)  # the log is no copy of personal data
    db.close()


@both_stores
def test_addressee_is_erased_after_the_retention(tmp_path, server_store):
    from server.reports import addressee
    from server.ingest.store import connect
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1), rating(1)])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    for case_id in (1, 2):
        addressee.set_(db.conn, case_id, "Lê Thị Hoa", "thôn Đông", "office")
    followup.close(db.conn, 1, "explained", "office")
    later = __import__("time").time() + 31 * 86400
    assert addressee.purge(db.conn, 30, now=later) == 1
    assert addressee.get(db.conn, 1) == {"name": "", "address": ""}
    assert addressee.get(db.conn, 2)["name"] == "Lê Thị Hoa"  # still open: kept
    db.close()
