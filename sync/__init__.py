"""The wire between kiosk and server: the MQTT contract (``contract``), the MQTT
client adapter (``mqtt``) and the kiosk's uplink daemon (``uplink``)."""
