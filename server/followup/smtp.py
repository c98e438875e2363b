"""One way out by e-mail: the ``[smtp]`` settings, shared by alerts and the scheduled
reports, so a commune configures its mail server once."""

from __future__ import annotations

import smtplib
import ssl


def connect(smtp, timeout: float = 60.0) -> smtplib.SMTP:
    """An open, logged-in connection to the ``[smtp]`` server (use it in a ``with``)."""
    if smtp.security == "tls":
        conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout,
                                context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        if smtp.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if smtp.username:
        conn.login(smtp.username, smtp.password)
    return conn
