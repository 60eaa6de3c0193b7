"""A page of submissions costs the same number of SQL statements whatever its size."""

from __future__ import annotations

from core.ids import decode_global_id
from permissions.viewer import load_viewer
from resolvers.forms import submit_form
from tests.forms.conftest import create_template
from tests.statements import count_statements

PAGE = """query($n: Int!) { formSubmissions(first: $n) { totalCount edges { node {
  submittedAt templateVersion template { name elements { key } } version { name }
  object { name } submittedBy { name } answers { key label value fileUrl }
  createdTickets { number ticketType { name } } pdfUrl } } } }"""


async def test_statements_for_30_submissions_equal_those_for_3(gql, company, settings):
    template = await create_template(gql, company)
    viewer = await load_viewer(company.inspector.account.id, 1)
    for i in range(30):
        rating = 1 if i % 3 == 0 else 4
        answers = [{"key": "room", "number": rating}, {"key": "remarks", "text": f"Runde {i}"}]
        if rating == 1:
            answers.append({"key": "recleaning", "boolean": True})
        site = company.site if i % 2 else company.other_site
        await submit_form(
            viewer, settings, template_id=decode_global_id(template["id"])[1], object_id=site.id, answers=answers
        )
    client = gql.as_viewer(company.inspector.token)
    small, small_data = await count_statements(client, PAGE, {"n": 3})
    large, large_data = await count_statements(client, PAGE, {"n": 30})
    assert len(large_data["formSubmissions"]["edges"]) == 30
    assert sum(len(e["node"]["createdTickets"]) for e in large_data["formSubmissions"]["edges"]) == 10
    assert large == small
