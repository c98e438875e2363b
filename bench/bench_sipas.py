"""SIPAS indices (issue 12): how long the server takes to compute a quarter's factor
indices from N ratings carrying five survey answers each, and what the answers add to
ingest. Prints one JSON line of figures last.

    .venv/bin/python bench/bench_sipas.py [--ratings N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong import sipas  # noqa: E402
from server.reports import figures  # noqa: E402
from server.ingest import sipas as server_sipas  # noqa: E402
from server.ingest.store import Store  # noqa: E402


def records(n: int, survey: bool, rnd: random.Random) -> list[bytes]:
    now = time.time()
    out = []
    for i in range(n):
        r = {"id": str(uuid.uuid4()), "v": 1, "kiosk": "k01", "commune": "xa-bench",
             "counter": "q1", "score": rnd.randint(1, 4), "scale": 4,
             "created_at": now - i * 30, "clock_synced": True, "boot_id": str(uuid.uuid4()),
             "mono": 100.0}
        if survey:
            r["survey"] = [{"q": q.code, "factor": q.factor, "level": rnd.randint(1, 4),
                            "scale": 4} for q in sipas.DEFAULT_QUESTIONS]
        out.append(json.dumps(r).encode())
    return out


def ingest(path: Path, raws: list[bytes]) -> float:
    with Store(path) as store:
        t0 = time.perf_counter()
        for at in range(0, len(raws), 500):
            with store.db.atomic():
                store.add_ratings("xa-bench", "k01", raws[at:at + 500], time.time())
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ratings", type=int, default=20_000)
    n = ap.parse_args().ratings
    rnd = random.Random(12)
    with tempfile.TemporaryDirectory() as tmp:
        plain = ingest(Path(tmp) / "plain.db", records(n, False, rnd))
        surveyed = ingest(Path(tmp) / "survey.db", records(n, True, rnd))
        with Store(Path(tmp) / "survey.db") as store:
            period = figures.parse_period("quarter")
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                out = server_sipas.indices(store.db.conn, period)
                times.append(time.perf_counter() - t0)
    print(json.dumps({"ratings": n, "answers": out["all"]["answers"],
                      "ingest_plain_per_s": round(n / plain),
                      "ingest_with_survey_per_s": round(n / surveyed),
                      "indices_quarter_ms_median": round(sorted(times)[2] * 1000, 1)}))


if __name__ == "__main__":
    main()
