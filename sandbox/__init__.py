"""support-sandbox: try AI-assistant support policies on simulated customers before real ones."""

__version__ = "0.2.0"
