"""Config for Tortoise's own CLI, used by developers to write migrations:

    .venv/bin/tortoise -c server.tortoise_config.TORTOISE_ORM makemigrations
"""

from server.database import tortoise_config
from server.settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings())
