"""Provides the planner's tools on top of experiments: ``calculator`` (Erlang C/A staffing), ``staffing`` (the
fewest agents per interval and group for service targets), ``shifts`` (rosters that cover a requirement),
``sweeps`` (grids over any field) and ``sensitivity`` (which assumption moves a KPI most)."""
