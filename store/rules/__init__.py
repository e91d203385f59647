"""Pure domain rules: plain values in, plain values out. No SQL, no files, no wall clock (tests/test_layering.py)."""
