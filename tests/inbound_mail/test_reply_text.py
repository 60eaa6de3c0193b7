"""The new text of real replies: a corpus of messages as Outlook (desktop and web), Gmail, Apple Mail,
iPhone Mail and Thunderbird write them, German and English, plain and HTML, with and without
attachments (tests/inbound_mail/corpus/*.eml, expectations in expected.json)."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mail.inbound.parse import read_message
from mail.inbound.text import html_to_text, reply_text, split_internal_marker

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_reply_text_of_each_client(name: str) -> None:
    raw = (CORPUS / f"{name}.eml").read_bytes()
    message = read_message(raw)
    assert reply_text(message.text) == EXPECTED[name]["text"]
    assert [part.filename for part in message.attachments] == EXPECTED[name]["attachments"]
    assert message.message_id and message.references and message.sender


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_html_part_alone_gives_the_same_text(name: str) -> None:
    """Clients that send HTML only would be read from their HTML: it must give the same text."""
    message = message_from_bytes((CORPUS / f"{name}.eml").read_bytes(), policy=policy.default)
    html = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    if html is None:
        pytest.skip("plain text only")
    assert reply_text(html_to_text(html.get_content())) == EXPECTED[name]["text"]


def test_the_corpus_covers_the_clients_languages_and_shapes() -> None:
    names = set(EXPECTED)
    for client in ("outlook_desktop", "outlook_web", "gmail", "apple_mail", "thunderbird", "iphone"):
        assert any(name.startswith(client) for name in names), client
    assert {n for n in names if "_de" in n} and {n for n in names if "_en" in n}
    assert any(EXPECTED[n]["attachments"] for n in names) and any(not EXPECTED[n]["attachments"] for n in names)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nur Text.", "Nur Text."),
        ("Liste:\n- Fenster\n- Tür\n\n-- \nName", "Liste:\n- Fenster\n- Tür"),
        ("Oben.\n\nOn Mon, Dec 7, 2026 at 10:15 AM Sitedesk <desk@x.test> wrote:\n> alt", "Oben."),
        ("Oben.\n\n________________________________\nFrom: Sitedesk\nSent: Monday\nTo: X\n\nalt", "Oben."),
        ("Oben.\n\n-----Ursprüngliche Nachricht-----\nVon: Sitedesk\nGesendet: Montag\n\nalt", "Oben."),
        ("Danke\n\nSent from my iPhone", "Danke"),
        ("> nur zitiert\n> nichts Neues", ""),
    ],
)
def test_reply_text_rules(text: str, expected: str) -> None:
    assert reply_text(text) == expected


def test_the_internal_marker_is_the_first_line_only() -> None:
    assert split_internal_marker("#intern\nText") == ("Text", True)
    assert split_internal_marker("#INTERNAL\n\nText") == ("Text", True)
    assert split_internal_marker("Text\n#intern") == ("Text\n#intern", False)
    assert split_internal_marker("#internes Thema") == ("#internes Thema", False)
