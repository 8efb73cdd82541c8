"""The SQL statements, built by small functions so the query-plan tests
(tests/services/test_query_plans.py, test_sweep_plan.py) EXPLAIN exactly what runs.

Statements an interaction runs often are built once, with named bound parameters, and
kept (`functools.cache`/`lru_cache`: building a select costs SQLAlchemy 0.1–0.2 ms, more
than SQLite takes to answer it). A `*_query(...)` function returns that statement and the
values of its parameters (`Bound`), which the repositories execute and the tests EXPLAIN.
"""
