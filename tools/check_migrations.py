"""Models and committed migrations agree: Tortoise's migration autodetector finds nothing to write.

    python -m tools.check_migrations

exits 0 if `tortoise makemigrations` would say "No changes detected", else prints the migration it
would write and exits 1. Nothing is written and no database is touched (the ORM is set up on an
in-memory SQLite database only to build its model registry; the diff does not depend on the dialect).
"""

from __future__ import annotations

import asyncio
import sys

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from core.database import tortoise_config
from core.settings import settings_from_env


async def pending_migrations() -> list[str]:
    """The source of each migration `makemigrations` would write now (empty when models and migrations agree)."""
    config = tortoise_config(settings_from_env({"SITEDESK_DATABASE_URL": "sqlite://:memory:"}))
    async with TortoiseContext() as context:
        await context.init(config=config)
        assert context.apps is not None  # set by init()
        writers = await MigrationAutodetector(context.apps, config["apps"]).changes()
    return [f"# {writer.app_label}/{writer.name}.py\n{writer.as_string()}" for writer in writers]


def main() -> int:
    pending = asyncio.run(pending_migrations())
    if not pending:
        print("models and migrations agree")
        return 0
    print("the models differ from the committed migrations; `tortoise makemigrations` would write:\n")
    print("\n".join(pending))
    print("write the migration: .venv/bin/tortoise -c core.tortoise_config.TORTOISE_ORM makemigrations")
    return 1


if __name__ == "__main__":
    sys.exit(main())
