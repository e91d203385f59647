"""Helpers shared by the tests: builders, runners and the real tools they drive. Not tests themselves."""
