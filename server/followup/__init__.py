"""Follow-up and alerts: a case for every low rating, working-day deadlines, alerts and
the scheduled report mail."""
