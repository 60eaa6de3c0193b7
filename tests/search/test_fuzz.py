"""Any search text gives results or BAD_USER_INPUT, never another error (a bounded property test)."""

from __future__ import annotations

import asyncio
import time

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.search.conftest import SEARCH

EXAMPLES = 60
SECONDS = 60
# Operators, quotes, SQL and FTS syntax, umlauts and odd Unicode, next to plain words.
PIECES = st.sampled_from(
    [
        '"',
        "-",
        "*",
        "#",
        "'",
        "\\",
        ":",
        "(",
        ")",
        "{",
        "}",
        "^",
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "!",
        "&",
        "|",
        "<->",
        "%",
        "_",
        ";",
        "--",
        "/*",
        "fenster",
        "Tür",
        "ß",
        "123",
        "0",
        "\x01",
        "\u200b",
        "🪟",
        "ﬁ",
        "İ",
        " ",
        "  ",
        "\t",
        "\n",
        "a" * 101,
    ]
)
TEXTS = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=40))


async def test_any_search_answers_or_is_bad_user_input(world, corpus):
    loop = asyncio.get_running_loop()
    clients = (world.as_(world.staff), world.as_(world.alice))
    seen = {"answered": 0, "refused": 0}
    started = time.monotonic()

    async def both(text: str) -> None:
        for client in clients:
            for order in ("CREATED_AT", "RELEVANCE"):
                body = await client(SEARCH, {"s": text, "order": order, "first": 3})
                if body.get("errors"):
                    codes = {e["extensions"]["code"] for e in body["errors"]}
                    assert codes == {"BAD_USER_INPUT"}, (text, body["errors"])
                    seen["refused"] += 1
                else:
                    seen["answered"] += 1

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(TEXTS)
    def run(text: str) -> None:
        if time.monotonic() - started > SECONDS:
            return
        asyncio.run_coroutine_threadsafe(both(text), loop).result(timeout=60)

    await loop.run_in_executor(None, run)
    assert seen["answered"] > 0 and seen["refused"] > 0, seen
