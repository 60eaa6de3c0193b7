"""The search language from outside: word forms, phrases, prefixes, exclusions, numbers, refusals."""

from __future__ import annotations

from tests.search.conftest import refusal, search


async def test_german_word_forms_case_and_accents_meet(world, corpus):
    staff = world.as_(world.staff)
    expected = {"Fenster streifig", "Glas matt", "Heizung laut"}  # title, description, comment
    for text in ("Fenster", "fensters", "FENSTERN"):
        assert set((await search(staff, text)).titles) == expected, text
    for text in ("Tür", "tur", "TUR"):
        assert (await search(staff, text)).titles == ["Tür beschädigt"], text
    for text in ("Café", "cafe"):
        assert (await search(staff, text)).titles == ["Café im Foyer verschmutzt"], text


async def test_every_word_must_match_in_any_field(world, corpus):
    staff = world.as_(world.staff)
    # "Fenster" in the title, "Rathaus" the object's name, "Flur" the description.
    assert (await search(staff, "fenster rathaus flur")).titles == ["Fenster streifig"]
    assert (await search(staff, "fenster sandkasten")).titles == []
    # A file name and a comment.
    assert (await search(staff, "schadensprotokoll")).titles == ["Tür beschädigt"]
    assert (await search(staff, "kümmern")).titles == ["Heizung laut"]


async def test_phrases_prefixes_and_exclusions(world, corpus):
    staff = world.as_(world.staff)
    assert (await search(staff, '"tür beschädigt"')).titles == ["Tür beschädigt"]
    assert (await search(staff, '"beschädigt tür"')).titles == []
    assert (await search(staff, "Café-Foyer")).titles == []  # a hyphenated word is a phrase: not adjacent
    assert (await search(staff, "beschäd*")).titles == ["Tür beschädigt"]
    assert (await search(staff, "schadens*")).titles == ["Tür beschädigt"]
    assert set((await search(staff, "fenster -flur")).titles) == {"Glas matt", "Heizung laut"}
    assert set((await search(staff, 'fenster -"zweiter stock" -treppen*')).titles) == {"Heizung laut"}


async def test_a_number_alone_matches_the_ticket_number(world, corpus):
    staff = world.as_(world.staff)
    number = corpus["door"].number
    for text in (f"#{number}", str(number)):
        found = await search(staff, text)
        assert found.numbers == [number], text
        assert found.highlights == [[{"field": "number", "snippet": f"«{number}»"}]]
    assert (await search(staff, f"tür #{number + 1}")).titles == []  # with other words: a word like any


async def test_exclusions_or_operators_only_are_bad_user_input(world, corpus):
    staff = world.as_(world.staff)
    for text in ("-fenster", '-"tür beschädigt" -cafe', "*", "- * #", '""', '"', "-", "«»"):
        assert await refusal(staff, text) == ("BAD_USER_INPUT", "filter.search"), text
    assert await refusal(staff, "x" * 501) == ("BAD_USER_INPUT", "filter.search")


async def test_blank_search_narrows_nothing_and_relevance_needs_a_search(world, corpus):
    staff = world.as_(world.staff)
    assert (await search(staff, "   ")).total == len(corpus)
    for blank in (None, "", "  "):
        assert await refusal(staff, blank, order="RELEVANCE") == ("BAD_USER_INPUT", "orderBy")
