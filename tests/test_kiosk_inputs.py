"""Physical buttons through gpiozero's MockFactory: a press becomes a stored rating
through the same handler as a touch; lights follow the screens."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory
from kiosk_ui_support import make_app, pump, ratings

from hailong.errors import HailongError
from kiosk.inputs import GpioError, KioskInputs, make_pin_factory

BUTTONS, LEDS = [5, 6, 13, 19], [12, 16, 20, 21]


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def wait_for_event(app, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(ratings(app)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
        pump(app)


def test_button_press_is_a_rating(tmp_path, factory):
    inputs = KioskInputs(factory, BUTTONS, LEDS, buzzer=26, bounce=None)
    app, clock = make_app(tmp_path, inputs=inputs)
    try:
        factory.pin(5).drive_low()   # the leftmost button: the best level
        wait_for_event(app, 1)
        factory.pin(5).drive_high()
        [row] = ratings(app)
        assert row["score"] == 4 and row["_sealed"] == 1
        assert app.screen.name == "thanks"
        clock.advance(10)
        app.step([])
        factory.pin(19).drive_low()  # the rightmost: "Không hài lòng" opens the follow-up
        wait_for_event(app, 2)
        assert ratings(app)[1]["score"] == 1
        assert app.screen.name == "reasons"
    finally:
        inputs.close()


def test_lights_say_when_a_press_counts(tmp_path, factory):
    inputs = KioskInputs(factory, BUTTONS, LEDS, bounce=None)
    app, _ = make_app(tmp_path, inputs=inputs)
    try:
        assert all(led.is_lit for led in inputs.leds)       # always-open: idle takes presses
        app.go("thanks")
        assert not any(led.is_lit for led in inputs.leds)   # cooldown: dark
        app.go("rating")
        assert all(led.is_lit for led in inputs.leds)
    finally:
        inputs.close()


def test_lights_dark_without_a_transaction(tmp_path, factory):
    inputs = KioskInputs(factory, BUTTONS, LEDS, bounce=None)
    app, _ = make_app(tmp_path, '[flow]\nmode = "transaction"\n', inputs=inputs)
    try:
        assert not any(led.is_lit for led in inputs.leds)
        factory.pin(5).drive_low()
        time.sleep(0.1)
        pump(app)
        assert ratings(app) == []                           # no transaction: not a rating
    finally:
        inputs.close()


def test_bad_pins_are_one_clear_error(factory):
    with pytest.raises(GpioError, match="BCM"):
        KioskInputs(factory, [5, 99])


def test_no_silent_fallback_to_mock():
    # On this machine (not a Pi) a real pin factory cannot work: say so, never fake it.
    with pytest.raises(HailongError, match="will not run with fake"):
        make_pin_factory("rpigpio")
    assert isinstance(make_pin_factory("mock"), MockFactory)  # only when asked by name
