"""Provides the Textual workbench (the only package that imports textual); see sandbox.tui.app."""
