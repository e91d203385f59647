"""Reusable widgets for the Duly app."""
