"""Which of many viewers a scope lets see a row: one statement per kind of viewer, not per viewer.

Live updates authorise each event for every subscribed viewer. `viewers_finding`
groups the viewers by `Viewer.query_shape()` (what the scope definitions
branch on: kind, permissions, …) and asks each group with one statement
(`core.audience`), the viewers' ids bound as columns of a relation. The scope
query itself is the caller's, built from the `visible_*` definitions, so
there is still one definition of each scope.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from core.audience import Ask, matching_subjects
from core.queries import Rows, Sentinels
from permissions.viewer import Viewer


async def viewers_finding(
    key: Hashable,
    build: Callable[[Viewer, Sentinels], Rows],
    viewers: Iterable[Viewer],
    shared: dict[str, Any],
) -> set[Viewer]:
    """The viewers among `viewers` for whom `build(viewer, sentinels)` finds a row, `shared` bound.

    `build` gets each group's viewer with its ids replaced by sentinels
    (`Viewer.with_sentinels`) and asks the sentinels for its own inputs
    (`shared`'s names) as `core.queries.prepared_values` does. One statement
    for all groups (`core.audience.matching_subjects`).
    """
    groups: dict[Hashable, list[Viewer]] = {}
    for viewer in viewers:
        groups.setdefault(viewer.query_shape(), []).append(viewer)
    asks = [
        Ask(
            (key, shape),
            _for(build, members[0]),
            shared,
            [member.query_inputs() for member in members],
        )
        for shape, members in groups.items()
    ]
    answers = await matching_subjects(asks)
    members_of = list(groups.values())
    return {members_of[g][i] for g, found in enumerate(answers) for i in found}


def _for(build: Callable[[Viewer, Sentinels], Rows], viewer: Viewer) -> Callable[[Sentinels], Rows]:
    """`build` for `viewer`'s shape: its ids become sentinels too."""

    def built(sentinels: Sentinels) -> Rows:
        return build(viewer.with_sentinels(sentinels), sentinels)

    return built
