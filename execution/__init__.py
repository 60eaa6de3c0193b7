"""The execution layer: how a validated GraphQL request runs, between `schema/` (what there is) and `server/` (HTTP).

Three ways run one query, all here but graphql-core itself:

- `execution.schema`: the seam. `SitedeskSchema` overrides Strawberry's private
  `_get_execute_function` so Strawberry's `Schema.execute` (parsing, validation,
  the limits and error shaping stay as they are) calls `CompiledExecution.execute`
  in place of `graphql.execute`; `schema` is the product's one instance.
- `execution.compiled` (with `compiler`, `runtime`, `plan`, `fields`, `arguments`):
  one plan of generated Python per validated document and operation. It answers
  exactly as graphql-core's executor does (`SITEDESK_COMPARE_EXECUTION=1` runs
  both and fails on any difference, `execution.compare`); what it does not handle
  runs on graphql-core's executor, counted in `STATS` (`execution.stats`).
- `execution.settled`: a query that already ran on a plan in this app runs again
  on it without Strawberry's per-request pipeline (the thin HTTP path,
  `server/thin_path.py`, is its only caller).

Pinned: strawberry-graphql 0.341.2 and graphql-core 3.3.2; the private APIs used
and what to re-check on an upgrade are listed in docs/architecture/execution.md.
"""

from execution.compiled import CompiledExecution
from execution.stats import STATS

__all__ = ["STATS", "CompiledExecution"]
