"""Queries as of a date that feed the rules: what is open, reports, statements, alerts, the app's pages."""
