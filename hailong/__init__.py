"""Hài Lòng: citizen rating kiosks for commune one-stop counters.

The parts live in their own packages: ``kiosk`` (the Pi at the counter), ``sync``
(the MQTT contract and the kiosk's uplink), ``server`` (the commune server). This
package holds only what they share: the version, the error base, the config
machinery and the ``hailong`` command.
"""

__version__ = "0.1.0"
