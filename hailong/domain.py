"""The shared vocabulary: rating levels and reason codes, in Vietnamese and English.

Scores run from 1 (worst) to ``scale`` (best). These are the defaults; the server
can push others to a kiosk (the config topic). Codes travel on the wire and in the
store; labels are for people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    score: int
    vi: str
    en: str


# Best first, as the kiosk shows them.
LEVELS: dict[int, tuple[Level, ...]] = {
    5: (Level(5, "Rất hài lòng", "Very satisfied"), Level(4, "Hài lòng", "Satisfied"),
        Level(3, "Bình thường", "Neutral"), Level(2, "Không hài lòng", "Dissatisfied"),
        Level(1, "Rất không hài lòng", "Very dissatisfied")),
    4: (Level(4, "Rất hài lòng", "Very satisfied"), Level(3, "Hài lòng", "Satisfied"),
        Level(2, "Bình thường", "Neutral"), Level(1, "Không hài lòng", "Dissatisfied")),
    3: (Level(3, "Hài lòng", "Satisfied"), Level(2, "Bình thường", "Neutral"),
        Level(1, "Không hài lòng", "Dissatisfied")),
}


def level(score: int, scale: int) -> Level:
    return next(lv for lv in LEVELS[scale] if lv.score == score)


def is_satisfied(score: int, scale: int) -> bool:
    """Counts toward the satisfaction rate: the top two levels (one of three)."""
    return score >= scale - (0 if scale == 3 else 1)


def is_low(score: int, scale: int) -> bool:
    """A low rating opens a follow-up case: the 'dissatisfied' levels."""
    return score <= (2 if scale == 5 else 1)


@dataclass(frozen=True)
class Label:
    """A coded choice with its words in both languages: a reason, a follow-up outcome."""
    code: str
    vi: str
    en: str


Reason = Label


# Why a citizen is unhappy: the plans' own lists (DOMAIN.md).
LOW_REASONS: tuple[Reason, ...] = (
    Reason("long-wait", "Chờ đợi lâu", "Long wait"),
    Reason("attitude", "Thái độ chưa thân thiện", "Unfriendly attitude"),
    Reason("unclear-guidance", "Hướng dẫn chưa rõ ràng", "Unclear guidance"),
    Reason("extra-papers", "Yêu cầu giấy tờ ngoài quy định", "Papers beyond the rules"),
    Reason("many-trips", "Phải đi lại nhiều lần", "Had to come back several times"),
    Reason("late-result", "Trễ hẹn", "Result was late"),
    Reason("harassment", "Thu phí ngoài quy định, gây phiền hà", "Extra fees or harassment"),
    Reason("other", "Khác", "Other"),
)

# What went well: the officials' conduct pledge ("4 xin, 4 luôn").
HIGH_REASONS: tuple[Reason, ...] = (
    Reason("greeted", "Chào hỏi lịch sự", "Greeted politely"),
    Reason("smiled", "Luôn mỉm cười", "Always smiling"),
    Reason("gentle", "Nhẹ nhàng, ân cần", "Gentle and caring"),
    Reason("listened", "Lắng nghe", "Listened"),
    Reason("helped", "Tận tình giúp đỡ", "Really helped"),
    Reason("fast", "Giải quyết nhanh", "Quick service"),
)

REASONS = {r.code: r for r in LOW_REASONS + HIGH_REASONS}
