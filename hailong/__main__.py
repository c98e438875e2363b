"""``python -m hailong``: the same as the ``hailong`` command."""

from .cli import main

main()
