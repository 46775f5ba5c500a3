"""``python -m skillctl`` runs the CLI."""

from skillctl import main

main()
