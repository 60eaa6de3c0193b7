"""Every example operation of README.md and docs/ runs against the demo data as the login it names.

The documentation cannot drift from the schema or the demo: a renamed field, a login
that no longer signs in or an example that comes back empty fails here. README stays short
(issue 23): at most 250 lines, the rest lives in the documentation site.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.demo import seed_demo
from tools.doc_examples import ANYONE, README, examples, passwords

LOGIN = (
    """mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }"""
)


def leaves(value: Any) -> int:
    """How many non-null scalar values a response holds."""
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value)
    return value is not None


def never_filled(data: Any) -> set[str]:
    """Paths (indexes left out) of lists that are empty wherever the response holds them."""
    seen: set[str] = set()
    filled: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            seen.add(path)
            if value:
                filled.add(path)
            for inner in value:
                walk(inner, path)

    walk(data, "")
    return seen - filled


README_MAX_LINES = 250


def test_the_readme_stays_short():
    lines = README.read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_readme_and_docs_both_hold_examples():
    pages = {e.page for e in examples()}
    assert "README.md" in pages
    assert any(page.startswith("docs/") for page in pages)


def test_every_block_is_named_and_names_a_demo_login():
    found = examples()
    assert len(found) >= 6
    logins = passwords()
    assert len({e.name for e in found}) == len(found), "operation names repeat"
    for example in found:
        assert example.login == ANYONE or example.login in logins, example.name


def test_a_block_without_a_name_or_login_is_refused():
    with pytest.raises(ValueError, match="named operation"):
        examples("```graphql\n# as: anyone\n{ me { name } }\n```\n")
    with pytest.raises(ValueError, match="# as:"):
        examples("```graphql\nquery Me { me { name } }\n```\n")


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"{e.page}:{e.name}")
async def test_the_example_runs_on_the_demo_data(settings, gql, example):
    await seed_demo(settings)
    client = gql
    if example.login != ANYONE:
        data = await gql.ok(LOGIN, {"email": example.login, "password": passwords()[example.login]})
        client = gql.as_viewer(data["login"]["accessToken"])
    body = await client(example.source)
    assert not body.get("errors"), body["errors"]
    assert leaves(body["data"]) >= 3
    # Every list an example shows has something in it somewhere (documents, submissions, tickets).
    assert never_filled(body["data"]) == set()
