"""The database URL as Sitedesk hands it to Tortoise."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlparse

from core.database import connection_url
from core.settings import settings_from_env


def url_for(database_url: str) -> str:
    return connection_url(settings_from_env({"SITEDESK_DATABASE_URL": database_url}))


def test_sqlite_gets_its_pragmas_and_keeps_given_ones(tmp_path: Path) -> None:
    url = urlparse(url_for(f"sqlite://{tmp_path / 'a.db'}?synchronous=FULL"))
    assert url.path == str(tmp_path / "a.db")
    assert dict(parse_qsl(url.query)) == {
        "busy_timeout": "5000",
        "synchronous": "FULL",
        "foreign_keys": "ON",
        "journal_mode": "WAL",
    }


def test_four_slashes_name_the_same_absolute_file_as_three(tmp_path: Path) -> None:
    three = url_for(f"sqlite://{tmp_path / 'a.db'}")
    four = url_for(f"sqlite:///{tmp_path / 'a.db'}")
    assert four == three
    assert four.startswith(f"sqlite://{tmp_path}/a.db?")


def test_postgres_gets_a_pool() -> None:
    url = urlparse(url_for("postgres://sitedesk@db.example:5432/sitedesk"))
    assert dict(parse_qsl(url.query)) == {"minsize": "1", "maxsize": "10"}
