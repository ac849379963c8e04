"""``python -m audioad``: the same as the ``audioad`` command."""

from .cli import main

main()
