"""``python -m hailong``: the same as the ``hailong`` command."""

from hailong.cli import main

main()
