"""A compiled execution path: one plan of generated Python per validated document and operation.

`CompiledExecution(schema).execute` stands in for `graphql.execute` inside
Strawberry's `Schema.execute` (see `schema.schema.SitedeskSchema`), so parsing,
validation, the limits and error shaping stay as they are. The plan answers
exactly as graphql-core's executor does (`SITEDESK_COMPARE_EXECUTION=1` runs
both and fails on any difference, see `schema.compiled.compare`); what it
does not handle runs on graphql-core's executor, counted in `STATS`.
"""

from schema.compiled.execute import CompiledExecution
from schema.compiled.stats import STATS

__all__ = ["STATS", "CompiledExecution"]
