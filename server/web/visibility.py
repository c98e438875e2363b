"""One rule for what each role sees (issue 10 item 5, issue 8 item 7), applied to the
pages, the JSON API and the exports alike:

* figures *per official, per counter and per kiosk* (a counter is usually one person)
  need the ``people`` permission: leaders only;
* the office sees the commune's figures and those per field and per procedure, and
  each follow-up case with the official's name on it (following a case up needs it);
* a technician sees kiosks and their alerts, never ratings of people.

Every place that hands out a report goes through ``report_for``; docs/leader-guide.md
states the same rule in words, and tests/test_office_rule.py checks every route.
"""

from __future__ import annotations

PEOPLE_DIMENSIONS = ("official", "counter", "kiosk")


def withheld(user) -> tuple[str, ...]:
    return () if user.can("people") else PEOPLE_DIMENSIONS


def report_for(data: dict, user) -> dict:
    """The report's data as this user may see it: withheld sections emptied and listed
    under ``withheld`` (so an export says so instead of showing an empty table)."""
    hide = withheld(user)
    if not hide:
        return data
    out = dict(data)
    for dim in hide:
        if f"by_{dim}" in out:
            out[f"by_{dim}"] = []
    out["withheld"] = list(hide)
    return out
