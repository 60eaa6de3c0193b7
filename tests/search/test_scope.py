"""Scope first: a customer user's search never finds, ranks, counts or shows what they may not see."""

from __future__ import annotations

from tests.factories import make_comment, make_ticket
from tests.search.conftest import search


async def test_a_word_only_in_an_internal_comment_finds_nothing_for_a_customer_user(world, corpus):
    alice = world.as_(world.alice)
    for text in ("Zuckerwatte", "zuckerwat*", '"Techniker Zuckerwatte"', "heizung zuckerwatte"):
        found = await search(alice, text)
        assert (found.total, found.titles) == (0, []), text
        relevant = await search(alice, text, order="RELEVANCE")
        assert (relevant.total, relevant.titles) == (0, []), text
    # The employees' search does find it: the refusal above is the scope, not a broken index.
    assert (await search(world.as_(world.staff), "Zuckerwatte")).titles == ["Heizung laut"]


async def test_another_customers_words_find_nothing(world, corpus):
    for person in (world.alice, world.bob):
        found = await search(world.as_(person), "Geheimwort")
        assert (found.total, found.titles) == (0, [])
        assert (await search(world.as_(person), "sandkasten", order="RELEVANCE")).total == 0
    assert (await search(world.as_(world.carl), "Geheimwort")).titles == ["Sandkasten Geheimwort"]


async def test_an_internal_word_neither_excludes_nor_highlights_for_a_customer_user(world, corpus):
    alice = world.as_(world.alice)
    # "Heizung laut" has the internal "Zuckerwatte": excluding it must not drop the ticket for Alice.
    found = await search(alice, "heizung -zuckerwatte")
    assert found.titles == ["Heizung laut"]
    assert (await search(world.as_(world.staff), "heizung -zuckerwatte")).titles == []
    # The highlights show the public comment's words only.
    found = await search(alice, "fenstern", order="RELEVANCE")
    shown = [h for marks in found.highlights for h in marks]
    assert all("Zuckerwatte" not in h["snippet"] and "Techniker" not in h["snippet"] for h in shown)
    assert {"field": "comment", "snippet": "Wir kümmern uns um die «Fenstern»."} in shown


async def test_internal_words_change_no_order_or_count_for_a_customer_user(world):
    """Two tickets alike for Alice; the older one has the word many times in internal comments."""
    older = await make_ticket(world.a1, world.defect, "Boden nass", by=world.alice)
    await make_comment(older, world.alice, "Wasser im Keller")
    for _ in range(3):
        await make_comment(older, world.staff, "Keller Keller Wasser Keller", internal=True)
    newer = await make_ticket(world.a1, world.defect, "Decke nass", by=world.alice)
    await make_comment(newer, world.alice, "Wasser im Keller")
    alice = world.as_(world.alice)
    for order in ("RELEVANCE", "CREATED_AT"):
        found = await search(alice, "keller wasser", order=order)
        assert (found.total, found.titles) == (2, ["Decke nass", "Boden nass"]), order
        assert found.highlights[0] == found.highlights[1] == [{"field": "comment", "snippet": "«Wasser» im «Keller»"}]


async def test_the_same_answers_when_the_matches_are_many(world, corpus, monkeypatch):
    """PostgreSQL narrows by the matching ids when they are few, by a subquery when many: both alike."""
    monkeypatch.setattr("resolvers.search.FEW", 0)
    alice, staff = world.as_(world.alice), world.as_(world.staff)
    assert (await search(alice, "Zuckerwatte")).total == 0
    assert (await search(alice, "Geheimwort", order="RELEVANCE")).total == 0
    assert (await search(alice, "heizung -zuckerwatte")).titles == ["Heizung laut"]
    assert (await search(staff, "heizung -zuckerwatte")).titles == []
    assert set((await search(staff, "fensters")).titles) == {"Fenster streifig", "Glas matt", "Heizung laut"}
    number = corpus["door"].number
    assert (await search(staff, f"#{number}", order="RELEVANCE")).numbers == [number]
