"""The default templates, one per document and language (NAME.LANG.html), shipped as package data."""
