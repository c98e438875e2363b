"""The commune server: ingest (MQTT -> store, then ack), the store and its
aggregates, follow-up of low ratings, alerts, reports, the web dashboard, the
kiosk fleet and provisioning."""
