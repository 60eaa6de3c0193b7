"""Both databases stem and fold alike: PostgreSQL's configuration and our Python stemming index the
same words (run on PostgreSQL; the SQLite run checks the Python side against known stems)."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from core.search import fold, indexed_text, parse, stem
from models.search import CONFIGURATION

# German forms that must meet, and words that must not be bent into each other.
WORDS = (
    "Fenster Fensters Fenstern Tür Tur Tuer Türen Café cafe Cafés Straße Strasse Häuser Hauses Haus "
    "Müll Muell Schlüssel Schlüsseln Aufzug Aufzüge Aufzügen Heizung Heizungen Reinigung laufen läuft "
    "gelaufen Wasserschaden Wasserschäden Schimmel verstopft Abfluss Abflüsse Treppenhaus Beleuchtung "
    "12ab abc123 2026 Ærø Øl Œuvre naïve façade Übergabe ÖL ÄRGER Kita-Nord Fenster-Rahmen"
)
MEET = (
    ("Fenster", "Fensters", "Fenstern"),
    ("Tür", "Tur", "Türen"),
    ("Café", "cafe", "Cafés"),
    ("Straße", "Strasse"),
    ("Aufzug", "Aufzüge", "Aufzügen"),
    ("Heizung", "Heizungen"),
)


def test_german_forms_meet_in_one_stem():
    for forms in MEET:
        assert len({indexed_text(f) for f in forms}) == 1, forms
    assert fold("Tür Café Straße Ærø") == "tur cafe strasse aero"
    assert stem("fenstern") == "fenst"


def test_the_query_stems_as_the_index_does():
    query = parse("Fensters Türen")
    assert query is not None
    assert [t.stems for t in query.terms] == [("fenst",), ("tur",)]


async def test_postgresql_and_python_index_the_same_words(settings):
    connection = get_connection("default")
    if connection.capabilities.dialect != "postgres":
        pytest.skip("compares with PostgreSQL's text search configuration")
    for word in WORDS.split():
        rows = await connection.execute_query_dict(
            f"SELECT lexeme FROM unnest(to_tsvector('{CONFIGURATION}', "
            "regexp_replace($1, '[^[:alnum:]]+', ' ', 'g'))) ORDER BY lexeme",
            [word],
        )
        assert sorted({row["lexeme"] for row in rows}) == sorted(set(indexed_text(word).split())), word
