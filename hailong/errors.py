"""One exception base for the whole project (house style rule 8).

Subclasses also inherit the matching built-in, so callers may catch either.
"""


class HailongError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(HailongError, ValueError):
    """A config file is missing, unreadable or holds a bad value.

    The message is one line naming the file, the key and the problem.
    """
