"""Provides the command line (typer + rich); see sandbox.cli.main."""

from sandbox.cli.main import app, main

__all__ = ["app", "main"]
