"""``python -m fleet`` runs the command line."""

from fleet.cli import main

main()
