"""The commune server, one package per capability:

- ``ingest``: MQTT -> plausibility at the door -> the store (SQLite or PostgreSQL,
  behind ``ingest/store.py``), then ack; the transaction feed; forwarding to the
  province; SIPAS survey answers.
- ``followup``: a case for every low rating, deadlines in working days, alerts, mail.
- ``fleet``: kiosk enrolment and health, the commune broker, the roster.
- ``reports``: daily figures, period reports and letters as the commune files them.
- ``web``: the leaders' dashboard and its API.

``service.py`` runs ingest, the background work and the web in one process; ``cli.py``
gathers the ``hailong server`` commands; ``accounts.py`` holds the dashboard's users.
"""
