"""`formTemplatePage`: templates as a connection, by name (issue 15)."""

from __future__ import annotations

from tests.forms.conftest import create_template

PAGE = """query($first: Int, $after: String, $status: FormTemplateStatus) {
  formTemplates(status: $status) { name }
  formTemplatePage(first: $first, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { name status } } } }"""


async def walk(client, size: int, status: str | None = None) -> tuple[list[str], list[str], list[int]]:
    names, totals, after, listed = [], [], None, []
    while True:
        data = await client.ok(PAGE, {"first": size, "after": after, "status": status})
        page = data["formTemplatePage"]
        listed = [t["name"] for t in data["formTemplates"]]
        names += [e["node"]["name"] for e in page["edges"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return names, listed, totals
        after = page["pageInfo"]["endCursor"]


async def test_managers_page_every_template_other_employees_the_published(world, company):
    petra = world.as_(world.petra)
    for name in ("Delta", "Alpha", "Charlie", "Bravo", "Echo"):
        await create_template(world.gql, company, name=name, publish=name in ("Alpha", "Echo"))
    names, listed, totals = await walk(petra, 2)
    assert names == listed == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert totals == [5, 5, 5]
    names, listed, totals = await walk(petra, 2, "DRAFT")
    assert names == listed == ["Bravo", "Charlie", "Delta"]

    names, listed, totals = await walk(world.as_(world.staff), 1)
    assert names == listed == ["Alpha", "Echo"] and totals == [2, 2]


async def test_customer_users_and_anonymous_callers_are_refused(world, company):
    assert await world.as_(world.alice).error_code(PAGE, {"first": 1}) == "FORBIDDEN"
    assert await world.gql.error_code(PAGE, {"first": 1}) == "UNAUTHENTICATED"
