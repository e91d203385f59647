"""`duly COMMAND ...`: main (parsing, exit codes) and one module per group of top-level commands."""
