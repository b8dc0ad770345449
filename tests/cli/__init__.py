"""Command-line tests: typer CliRunner and real subprocesses."""
