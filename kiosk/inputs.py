"""Physical buttons, their lights and an optional buzzer, through gpiozero.

The pin factory is passed in (house style rule 2): ``main()`` builds it from
``[gpio] pin_factory``, tests pass gpiozero's ``MockFactory``. The mock factory is
only ever used when asked for by name; if buttons are configured and no real pin
factory works, the kiosk refuses to start with one clear line instead of quietly
running with fake buttons.

Button callbacks run on gpiozero's threads and only post a pygame event.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence

from hailong.errors import HailongError

from kiosk.ui.events import post_button

log = logging.getLogger(__name__)

FACTORIES = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
    "mock": ("gpiozero.pins.mock", "MockFactory"),
}


class GpioError(HailongError, RuntimeError):
    """Buttons are configured but the GPIO cannot be used."""


def make_pin_factory(name: str):
    """The factory named in ``[gpio] pin_factory``; 'auto' is gpiozero's own choice."""
    try:
        if name == "auto":
            from gpiozero import Device
            return Device._default_pin_factory()
        module, cls = FACTORIES[name]
        return getattr(importlib.import_module(module), cls)()
    except Exception as e:  # BadPinFactory, ImportError, PinFactoryFallback...
        raise GpioError(f"[gpio] pin_factory {name!r} does not work here: {e}. Buttons are "
                        "configured, so the kiosk will not run with fake ones; see "
                        "`hailong kiosk doctor`") from None


def _pins(values: Sequence, key: str) -> list[int]:
    pins = list(values)
    for pin in pins:
        if isinstance(pin, bool) or not isinstance(pin, int) or not 0 <= pin <= 27:
            raise GpioError(f"[gpio] {key}: {pin!r} is not a GPIO (BCM) number 0..27")
    return pins


class KioskInputs:
    """Buttons (best level first, left to right), one LED per button, a buzzer."""

    def __init__(self, factory, buttons: Sequence[int], leds: Sequence[int] = (),
                 buzzer: int | None = None, bounce: float | None = 0.05,
                 post: Callable[[int], None] = post_button):
        from gpiozero import LED, Button, Buzzer

        self.factory = factory
        self.buttons = []
        self.leds = []
        self.buzzer = None
        try:
            for index, pin in enumerate(_pins(buttons, "buttons")):
                button = Button(pin, pin_factory=factory, bounce_time=bounce or None)
                button.when_pressed = _poster(post, index)
                self.buttons.append(button)
            self.leds = [LED(pin, pin_factory=factory) for pin in _pins(leds, "leds")]
            if buzzer:
                self.buzzer = Buzzer(_pins([buzzer], "buzzer")[0], pin_factory=factory)
        except GpioError:
            self.close()
            raise
        except Exception as e:
            self.close()
            raise GpioError(f"GPIO set-up failed: {e}") from None

    @classmethod
    def from_config(cls, gpio, factory=None) -> KioskInputs | None:
        """None when no button is configured; ``factory`` overrides the config (tests)."""
        if not gpio.buttons:
            return None
        factory = factory or make_pin_factory(gpio.pin_factory)
        return cls(factory, gpio.buttons, gpio.leds, gpio.buzzer or None, gpio.bounce)

    def lights(self, on: bool) -> None:
        """Light the buttons while they can be pressed."""
        for led in self.leds:
            led.on() if on else led.off()

    def acknowledge(self, index: int) -> None:
        """A press was stored: blink its light and beep."""
        if index < len(self.leds):
            self.leds[index].blink(on_time=0.1, off_time=0.1, n=3, background=True)
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.08, off_time=0.05, n=1, background=True)

    def test(self) -> None:
        for led in self.leds:
            led.blink(on_time=0.3, off_time=0.3, n=3, background=True)
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.2, off_time=0.2, n=2, background=True)

    def close(self) -> None:
        for device in [*self.buttons, *self.leds, self.buzzer]:
            if device is not None:
                device.close()

    def __enter__(self) -> KioskInputs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _poster(post: Callable[[int], None], index: int) -> Callable[[], None]:
    def pressed() -> None:  # on a gpiozero thread: only post, never draw or store
        post(index)
    return pressed
