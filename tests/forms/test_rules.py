"""Unit tests of the pure rules: visibility in order, answer checks, answers as text."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import BadUserInput
from resolvers.forms import answer_text, check_answers

ELEMENTS = [
    {
        "key": "rating",
        "kind": "RATING",
        "label": "Raum",
        "description": "",
        "required": False,
        "options": [],
        "scale": 5,
        "visible_if": None,
        "ticket": None,
    },
    {
        "key": "again",
        "kind": "YES_NO",
        "label": "Nachreinigung?",
        "description": "",
        "required": True,
        "options": [],
        "scale": None,
        "visible_if": {"key": "rating", "operator": "LT", "value": "3"},
        "ticket": None,
    },
    {
        "key": "why",
        "kind": "MULTIPLE_CHOICE",
        "label": "Warum?",
        "description": "",
        "required": True,
        "options": ["Staub", "Müll"],
        "scale": None,
        "visible_if": {"key": "again", "operator": "EQ", "value": "true"},
        "ticket": None,
    },
    {
        "key": "dust",
        "kind": "TEXT",
        "label": "Wo Staub?",
        "description": "",
        "required": True,
        "options": [],
        "scale": None,
        "visible_if": {"key": "why", "operator": "EQ", "value": "Staub"},
        "ticket": None,
    },
    {
        "key": "when",
        "kind": "DATE",
        "label": "Wann?",
        "description": "",
        "required": False,
        "options": [],
        "scale": None,
        "visible_if": None,
        "ticket": None,
    },
    {
        "key": "late",
        "kind": "TEXT",
        "label": "Warum so spät?",
        "description": "",
        "required": True,
        "options": [],
        "scale": None,
        "visible_if": {"key": "when", "operator": "GT", "value": "2026-12-01"},
        "ticket": None,
    },
    {
        "key": "note",
        "kind": "TEXT",
        "label": "Notiz",
        "description": "",
        "required": False,
        "options": [],
        "scale": None,
        "visible_if": {"key": "dust", "operator": "EQ", "value": "flur"},
        "ticket": None,
    },
]


def keys(answers):
    return [c.element["key"] for c in check_answers(ELEMENTS, answers)]


def test_hidden_chain_needs_no_answers():
    assert keys([{"key": "rating", "number": 4}]) == ["rating", "when"]
    # Unanswered references hide their dependents.
    assert keys([]) == ["rating", "when"]


def test_visibility_follows_the_answers_in_order():
    answers = [
        {"key": "rating", "number": 1},
        {"key": "again", "boolean": True},
        {"key": "why", "choices": ["Müll", "Staub"]},
        {"key": "dust", "text": " FLUR "},
        {"key": "note", "text": "x"},
    ]
    assert keys(answers) == ["rating", "again", "why", "dust", "when", "note"]
    answers[2] = {"key": "why", "choices": ["Müll"]}
    assert keys(answers) == ["rating", "again", "why", "when"]


def test_answers_to_hidden_elements_are_ignored_even_when_invalid():
    assert keys([{"key": "rating", "number": 5}, {"key": "again", "text": "nonsense"}]) == ["rating", "when"]


def test_dates_compare_as_dates():
    assert "late" in keys([{"key": "when", "date": date(2026, 12, 2)}, {"key": "late", "text": "Urlaub"}])
    assert "late" not in keys([{"key": "when", "date": date(2026, 12, 1)}])


@pytest.mark.parametrize(
    "answers, field",
    [
        ([{"key": "rating", "number": 1}], "again"),
        ([{"key": "rating", "number": 1}, {"key": "again", "boolean": True}, {"key": "why", "choices": []}], "why"),
        (
            [{"key": "rating", "number": 1}, {"key": "again", "boolean": True}, {"key": "why", "choices": ["Rost"]}],
            "why",
        ),
        (
            [
                {"key": "rating", "number": 1},
                {"key": "again", "boolean": True},
                {"key": "why", "choices": ["Staub", "Staub"]},
            ],
            "why",
        ),
        ([{"key": "rating", "number": 0}], "rating"),
        ([{"key": "rating", "number": float("nan")}], "rating"),
        ([{"key": "rating", "number": 3, "text": "drei"}], "rating"),
    ],
)
def test_invalid_answers_name_their_element(answers, field):
    with pytest.raises(BadUserInput) as caught:
        check_answers(ELEMENTS, answers)
    assert caught.value.extensions["field"] == field


def test_answers_as_text():
    rating = ELEMENTS[0]
    assert answer_text(rating, 3) == "3 / 5"
    assert answer_text(ELEMENTS[1], False) == "Nein"
    assert answer_text(ELEMENTS[2], ["Staub", "Müll"]) == "Staub, Müll"
    assert answer_text(ELEMENTS[4], "2026-01-31") == "31.01.2026"
    assert answer_text({"kind": "NUMBER"}, 2.5) == "2.5"
    assert answer_text({"kind": "NUMBER"}, 4.0) == "4"
    assert answer_text(ELEMENTS[3], None) == ""
