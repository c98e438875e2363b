"""Ingest and store: MQTT -> plausibility at the door -> the store, then ack; the store's
engine (SQLite or PostgreSQL) behind one seam; the transaction feed; forwarding to the
province."""
