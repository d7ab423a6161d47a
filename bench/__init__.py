"""Reproducible benchmarks of windowsvc (`make bench`, `python -m bench`): one table, one run.

Not timed tests: every benchmark measures in this run and prints its number next to its target.
``BENCH_QUICK=1`` runs smaller sizes.
"""
