"""support-sandbox: try AI-assistant support policies on simulated customers before real ones."""

__version__ = "0.1.0"
