"""Reference and demo data, each feature's part in a module of its own (core/ knows no feature)."""
