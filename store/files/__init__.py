"""The outside world: files read and written (imports, bank statements, exports, the demo) and mail."""
