"""Lazily-loaded click subcommands, one module per command (see skillctl.cli)."""
