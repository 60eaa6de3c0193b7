"""Counters of the compiled execution path, readable in-process (the test run prints them)."""

from __future__ import annotations

from collections import Counter

# "compiled" and "fallback" runs, fallbacks by reason ("fallback: introspection"), "compiles",
# "fields handed to graphql-core" (unknown shapes, per compile) and "refused fields on
# graphql-core's path" (per request and field: a refusal runs exactly as graphql-core runs it).
STATS: Counter[str] = Counter()
