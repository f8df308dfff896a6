"""``python -m holopipe``: the same as the ``holopipe`` command."""

from holopipe.cli import main

main()
