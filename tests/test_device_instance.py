"""The device's instance id is made once, whoever asks first: processes starting
together (the screen, the uplink, the doctor, or ten uplinks of a test) all read the
same id and none fails (a shared temporary name crashed one of ten uplinks)."""

from __future__ import annotations

import threading

from sync.instance import device_instance


def test_many_starting_at_once_agree_on_one_id(tmp_path):
    for round_ in range(20):
        folder = tmp_path / str(round_)
        folder.mkdir()
        start, ids, errors = threading.Barrier(10), [], []

        def ask(n: int) -> None:
            start.wait()
            try:
                ids.append(device_instance(folder / f"kiosk-k{n:02d}.db"))
            except Exception as e:  # the failure this test is about
                errors.append(e)
        threads = [threading.Thread(target=ask, args=(n,)) for n in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(set(ids)) == 1, (errors, set(ids))
        assert sorted(p.name for p in folder.iterdir()) == ["instance-id"]


def test_the_id_is_kept(tmp_path):
    first = device_instance(tmp_path / "outbox.db")
    assert device_instance(tmp_path / "outbox.db") == first
