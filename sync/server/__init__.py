"""`duly serve`: the team's relay and backup (app: routes, signatures, roles; storage: SQLite or PostgreSQL).
Needs the server extra: pip install 'duly[server]'."""
