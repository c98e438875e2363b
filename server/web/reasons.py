"""Reason labels as the commune configured them (issue 8: custom reasons showed as raw
codes). The roster's ``low_reasons`` / ``high_reasons`` settings (what the kiosks show,
``server/fleet/roster.py``) come first, then the built-in list, then the code itself."""

from __future__ import annotations

import json

from flask import Blueprint, g

from server.web.i18n import WORDS

bp = Blueprint("reasons", __name__)


def configured_labels(conn) -> dict[str, tuple[str, str]]:
    """code -> (vi, en) from the roster settings; empty when none are configured."""
    out: dict[str, tuple[str, str]] = {}
    rows = conn.execute("SELECT value FROM roster_settings WHERE key IN "
                        "('low_reasons', 'high_reasons')").fetchall()
    for (value,) in rows:
        try:
            labels = json.loads(value)
        except ValueError:
            continue
        for label in labels if isinstance(labels, list) else []:
            if isinstance(label, dict) and isinstance(label.get("code"), str) \
                    and isinstance(label.get("vi"), str):
                out[label["code"]] = (label["vi"], label.get("en") or label["vi"])
    return out


def reason_label(code: str) -> str:
    """The words for a reason code in the reader's language (once per request)."""
    labels = g.get("_reason_labels")
    if labels is None:
        labels = g._reason_labels = configured_labels(g.db)
    pair = labels.get(code) or WORDS.get(f"reason_{code}")
    if pair is None:
        return code
    return pair[1 if g.get("lang") == "en" else 0]


@bp.app_context_processor
def helpers():
    return {"reason_label": reason_label}
