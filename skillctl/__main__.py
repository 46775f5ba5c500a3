"""``python -m skillctl`` runs the CLI."""

from skillctl.cli import main

main()
