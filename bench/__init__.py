"""Benchmarks of the chapter membership system at the design scale (see DESIGN.md, "Benchmarks").

`python -m bench` (or `make bench`) seeds the scale data into a throw-away database and runs every
group; `python -m bench roster` runs one. SQLite in a temporary file by default; PostgreSQL when
BENCH_DATABASE_URL is set. Each figure is one JSON object on a line of its own on stdout; progress,
warnings and query plans go to stderr, so `python -m bench > results.jsonl` keeps only the figures.

A group is a module `bench/<name>.py` with a function `run(bench: bench.common.Bench)`, listed in
`bench.__main__.GROUPS`.
"""
