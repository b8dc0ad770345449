"""Architecture rules: import layering, generated-file drift, no global random state."""
