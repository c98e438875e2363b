"""Issue 8: a kiosk clock that jumps backwards must not delay unacked ratings.

The uplink used to keep re-send times in wall time, so a clock set back by an hour
(NTP's first sync after a boot with a clock ahead) held every unacked rating back by
that hour. The wall clock is moved here by patching ``time.time`` (root would be needed
to move the real one); the outbox, the uplink and mosquitto are real. No server runs,
so nothing is ever acked and every batch must come back after ``ack_timeout``."""

from __future__ import annotations

import time

from conftest import wait_until
from helpers import record
from kiosk.config import load_kiosk_config
from sync.uplink import Uplink

HOUR = 3600.0


def test_resend_after_the_wall_clock_jumps_back(site, monkeypatch):
    conf = site.kiosk("k01", extra="\n[sync]\nack_timeout = 0.5\nbackoff_max = 1.0\n")
    record(conf, 5, seed=1)
    uplink = Uplink(load_kiosk_config(conf))
    uplink.client.loop_start()
    uplink.client.connect("127.0.0.1", uplink.config.broker.port)
    try:
        wait_until(lambda: uplink._connected.is_set(), timeout=15, message="connected")
        uplink.step()
        assert uplink.sent_batches == 1  # sent, and never acked: no server
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - HOUR)  # the clock jumps back
        started = time.monotonic()
        wait_until(lambda: (uplink.step(), uplink.sent_batches >= 2)[1], timeout=20,
                   interval=0.1, message="the unacked batch sent again")
        assert time.monotonic() - started < 10  # after ack_timeout, not after an hour
    finally:
        uplink.client.disconnect()
        uplink.client.loop_stop()
        uplink.outbox.close()

