"""``python -m agridrone`` runs the command line."""

from agridrone.cli import main

main()
