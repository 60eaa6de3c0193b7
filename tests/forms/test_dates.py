"""The submission filter's `from`/`to` lie within the plausible range of core/dates.py."""

from __future__ import annotations

from typing import Any

import pytest

QUERY = """query($filter: FormSubmissionFilter) { formSubmissions(filter: $filter) { totalCount } }"""


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"to": "9999-12-31"}, "filter.to"),  # was INTERNAL_SERVER_ERROR (date overflow)
        ({"from": "0001-01-01"}, "filter.from"),
        ({"from": "2026-01-01", "to": "2101-01-01"}, "filter.to"),
    ],
)
async def test_submission_filter_outside_the_range_is_refused(world: Any, criteria: dict[str, str], field: str) -> None:
    body = await world.as_(world.staff)(QUERY, {"filter": criteria})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": field,
        "earliest": "2000-01-01",
        "latest": "2100-12-31",
    }


async def test_submission_filter_at_the_edges_of_the_range_answers(world: Any) -> None:
    data = await world.as_(world.staff)(QUERY, {"filter": {"from": "2000-01-01", "to": "2100-12-31"}})
    assert data["data"] == {"formSubmissions": {"totalCount": 0}} and "errors" not in data
