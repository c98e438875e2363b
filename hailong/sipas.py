"""SIPAS, the national satisfaction index: its five factors, the default survey the
kiosk asks after a rating, and the index arithmetic shared by the server's figures
and its tests (issue 12).

The method (docs/leader-guide.md, "SIPAS"): a factor's index is the share of
satisfied answers (the top levels: "Hài lòng" and "Rất hài lòng") among all answers
to that factor's questions; the overall index is the mean of the factor indices
that have answers, as the Ministry of Home Affairs publishes SIPAS (Quyết định
1001/QĐ-BNV, 11/12/2023, method for 2023-2026).
"""

from __future__ import annotations

from collections.abc import Iterable

from hailong import domain
from sync import contract

# (code, Vietnamese, English) in the method's order
FACTORS: tuple[tuple[str, str, str], ...] = (
    ("access", "Tiếp cận dịch vụ", "Access to the service"),
    ("procedure", "Thủ tục hành chính", "The administrative procedure"),
    ("official", "Công chức", "The official"),
    ("result", "Kết quả giải quyết", "The result"),
    ("feedback", "Tiếp nhận, xử lý phản ánh, kiến nghị", "Handling of feedback"),
)
assert tuple(code for code, _, _ in FACTORS) == contract.SIPAS_FACTORS

# One question per factor, in words a citizen at the counter understands: what the
# factor is about, named by the things they have just seen.
DEFAULT_QUESTIONS: tuple[contract.SurveyQuestion, ...] = (
    contract.SurveyQuestion(
        code="access", factor="access",
        vi="Nơi làm thủ tục (dễ tìm, chỗ ngồi chờ, thiết bị) có làm Ông/Bà hài lòng không?",
        en="Were you satisfied with the place (easy to find, seats, equipment)?"),
    contract.SurveyQuestion(
        code="procedure", factor="procedure",
        vi="Thủ tục (giấy tờ phải nộp, phí, thời hạn) có làm Ông/Bà hài lòng không?",
        en="Were you satisfied with the procedure (papers, fees, time limits)?"),
    contract.SurveyQuestion(
        code="official", factor="official",
        vi="Công chức (thái độ, cách hướng dẫn) có làm Ông/Bà hài lòng không?",
        en="Were you satisfied with the official (attitude, guidance)?"),
    contract.SurveyQuestion(
        code="result", factor="result",
        vi="Kết quả (đúng hẹn, đầy đủ, chính xác) có làm Ông/Bà hài lòng không?",
        en="Were you satisfied with the result (on time, complete, correct)?"),
    contract.SurveyQuestion(
        code="feedback", factor="feedback",
        vi="Việc nhận và trả lời góp ý, phản ánh có làm Ông/Bà hài lòng không?",
        en="Were you satisfied with how comments and complaints are handled?"),
)


def default_survey(scale: int = 4) -> contract.Survey:
    return contract.Survey(questions=list(DEFAULT_QUESTIONS), scale=scale)


def factor_name(code: str, lang: str = "vi") -> str:
    for c, vi, en in FACTORS:
        if c == code:
            return vi if lang == "vi" else en
    return code


def is_satisfied(level: int, scale: int) -> bool:
    """The same top levels as the satisfaction rate of ratings (domain.is_satisfied)."""
    return domain.is_satisfied(level, scale)


def indices(answers: Iterable[tuple[str, int, int]]) -> dict:
    """(factor, level, scale) answers -> {"factors": {code: {answers, satisfied,
    index}}, "overall": mean of factor indices (None without answers), "answers": n,
    "pooled": share of satisfied over all answers}. Indices are percentages."""
    counts: dict[str, list[int]] = {}
    for factor, level, scale in answers:
        c = counts.setdefault(factor, [0, 0])
        c[0] += 1
        c[1] += is_satisfied(level, scale)
    return from_counts({f: (a, s) for f, (a, s) in counts.items()})


def from_counts(counts: dict[str, tuple[int, int]]) -> dict:
    """The same, from {factor: (answers, satisfied)} counted elsewhere (in SQL)."""
    counts = {f: c for f, c in counts.items() if c[0]}
    order = [code for code, _, _ in FACTORS] + sorted(set(counts) - set(contract.SIPAS_FACTORS))
    factors = {code: {"answers": counts[code][0], "satisfied": counts[code][1],
                      "index": round(100.0 * counts[code][1] / counts[code][0], 1)}
               for code in order if code in counts}
    total = sum(f["answers"] for f in factors.values())
    sat = sum(f["satisfied"] for f in factors.values())
    overall = (round(sum(100.0 * f["satisfied"] / f["answers"] for f in factors.values())
                     / len(factors), 1) if factors else None)
    return {"factors": factors, "overall": overall, "answers": total,
            "pooled": round(100.0 * sat / total, 1) if total else None}
