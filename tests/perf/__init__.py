"""Benchmarks (not part of the test suite): `python -m tests.perf [--quick]`.

See tests/perf/__main__.py for the options and docs/performance.md for the last results.
"""
