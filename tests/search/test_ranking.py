"""RELEVANCE (title, then description, then comments; ties newest first), its pages, and highlights."""

from __future__ import annotations

import re

import resolvers.search
from tests.factories import make_comment, make_ticket
from tests.search.conftest import search
from tests.statements import count_statements


async def ranked(world):
    """Five tickets holding "Aufzug", created oldest first in the order of their names."""
    comment_only = await make_ticket(world.a1, world.defect, "Licht defekt", by=world.staff)
    await make_comment(comment_only, world.staff, "Der Aufzug ist auch betroffen.")
    title_old = await make_ticket(world.a1, world.defect, "Aufzug steht", by=world.staff)
    described = await make_ticket(
        world.a1, world.defect, "Stillstand", by=world.staff, description="Beide Aufzüge im Haus stehen."
    )
    title_new = await make_ticket(world.a1, world.defect, "Aufzug quietscht", by=world.staff)
    comment_new = await make_ticket(world.a1, world.defect, "Tür klemmt", by=world.staff)
    await make_comment(comment_new, world.staff, "Neben dem Aufzug.")
    return [title_new, title_old, described, comment_new, comment_only]


async def test_title_before_description_before_comments_ties_newest_first(world):
    expected = [t.title for t in await ranked(world)]
    staff = world.as_(world.staff)
    for descending in (True, False):  # RELEVANCE ignores the direction
        body = await staff.ok(
            'query($d: Boolean!) { tickets(filter: {search: "aufzug"}, orderBy: RELEVANCE, descending: $d) {'
            " edges { node { title } } } }",
            {"d": descending},
        )
        assert [e["node"]["title"] for e in body["tickets"]["edges"]] == expected
    # By date, the same tickets newest first.
    by_date = ["Tür klemmt", "Aufzug quietscht", "Stillstand", "Aufzug steht", "Licht defekt"]
    assert (await search(staff, "aufzug")).titles == by_date


async def test_relevance_pages_by_cursor_without_repeats_or_gaps(world):
    expected = [t.title for t in await ranked(world)]
    staff = world.as_(world.staff)
    seen, after = [], None
    while True:
        page = await search(staff, "aufzug", order="RELEVANCE", first=2, after=after)
        seen += page.titles
        assert page.total == 5
        if not page.page["hasNextPage"]:
            break
        after = page.page["endCursor"]
    assert seen == expected
    back = await search(staff, "aufzug", order="RELEVANCE", last=2, before=after)
    assert back.titles == expected[1:3]  # the two before the last page's `after`
    # A cursor of another ordering is refused, not misread.
    body = await staff(
        'query($a: String!) { tickets(filter: {search: "aufzug"}, orderBy: CREATED_AT, after: $a) { totalCount } }',
        {"a": after},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_highlights_mark_the_words_as_written_within_200_characters(world):
    long = ("Vorher stand hier viel anderer Text. " * 12) + "Die Aufzüge sind laut. " + ("Und danach mehr. " * 12)
    await make_ticket(world.a1, world.defect, "Lärm", by=world.staff, description=long)
    found = await search(world.as_(world.staff), "aufzug laut")
    [marks] = found.highlights
    [mark] = marks
    assert mark["field"] == "description"
    assert "«Aufzüge» sind «laut»" in mark["snippet"]
    assert mark["snippet"].startswith("…") and mark["snippet"].endswith("…")
    assert len(re.sub("[«»…]", "", mark["snippet"])) <= 200
    # Without a search: no highlights.
    body = await world.as_(world.staff).ok("{ tickets { edges { highlights { field } } } }")
    assert [e["highlights"] for e in body["tickets"]["edges"]] == [[]]


async def test_statements_per_page_stay_flat_with_highlights(world, gql):
    for n in range(12):
        ticket = await make_ticket(world.a1, world.defect, f"Fenster {n}", by=world.alice)
        await make_comment(ticket, world.staff, "Fenster geputzt")
    query = (
        'query($n: Int!) { tickets(first: $n, filter: {search: "fenster"}, orderBy: RELEVANCE) {'
        " totalCount edges { cursor highlights { field snippet } node { title } } } }"
    )
    await search(world.as_(world.staff), "fenster")  # SQLite: the factories' rows indexed first
    for person in (world.staff, world.alice):
        client = gql.as_viewer(person.token)
        small, data = await count_statements(client, query, {"n": 2})
        assert len(data["tickets"]["edges"]) == 2
        large, data = await count_statements(client, query, {"n": 12})
        assert len(data["tickets"]["edges"]) == 12
        assert small == large, (small, large)


async def test_a_common_words_pages_are_read_tier_by_tier_in_the_same_order(world, monkeypatch):
    # A word matching more than FEW tickets is ranked tier by tier (`relevance_walk`); here every
    # word is "common", on both databases, and the order and the pages must not change.
    monkeypatch.setattr(resolvers.search, "FEW", 0)
    expected = [t.title for t in await ranked(world)]
    staff = world.as_(world.staff)
    assert (await search(staff, "aufzug", order="RELEVANCE")).titles == expected
    for first in (1, 2, 3):
        seen, after = [], None
        for _ in range(len(expected)):  # bounded: a cursor that repeats rows must fail, not loop
            page = await search(staff, "aufzug", order="RELEVANCE", first=first, after=after)
            seen += page.titles
            assert page.total == 5
            if not page.page["hasNextPage"]:
                break
            after = page.page["endCursor"]
        assert seen == expected, first
    # A customer user's tiers hold only what they may see: Alice sees no staff-only comment here.
    alice = world.as_(world.alice)
    assert (await search(alice, "aufzug", order="RELEVANCE")).titles == expected
