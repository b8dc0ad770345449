"""Provides ``python -m sandbox``: the same as the support-sandbox command."""

from sandbox.cli import main

main()
