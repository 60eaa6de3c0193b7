"""Config for Tortoise's own CLI, used by developers to write migrations:

.venv/bin/tortoise -c core.tortoise_config.TORTOISE_ORM makemigrations
"""

from core.database import tortoise_config
from core.settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings())
