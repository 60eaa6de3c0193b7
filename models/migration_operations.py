"""Migration operations of our own, for the committed migrations in `models/migrations/`."""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class AlterEnumChoices(ops.AlterField):
    """New enum values for a CharEnumField: the column (VARCHAR) is unchanged, only the migration
    state's choices are. Tortoise's own AlterField rebuilds the table on SQLite for the changed
    description and loses its indexes on the way."""

    async def database_forward(self, app_label: Any, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        return None

    async def database_backward(self, app_label: Any, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        return None
