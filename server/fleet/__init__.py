"""Fleet and roster: kiosk enrolment and health, the commune broker's config, and the
roster (officials, counters, duty) pushed to the kiosks."""
