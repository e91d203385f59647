"""The terminal app: the App, its database thread and the catalogue of what it says (zh, en)."""
