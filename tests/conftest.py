"""Test harness: one migrated database per run (SQLite or PostgreSQL), emptied
between tests, real HTTP requests through the ASGI app, and the one world of
test data (`world`) that test modules build on with `tests/factories.py`.

`SITEDESK_TEST_DATABASE_URL` chooses the database: unset means a fresh SQLite
file; a `postgres://` URL names a server on which a throwaway database is
created for this run and dropped afterwards. `SITEDESK_TEST_FILES=s3` stores
files in S3 (moto's server on 127.0.0.1, tests/storage.py) instead of a directory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from tortoise import Tortoise
from tortoise.connection import get_connection

import permissions.passwords
from core.database import migrate, tortoise_config
from core.settings import Settings, settings_from_env
from execution import STATS, compare
from models.customers import Customer, SiteObject
from models.tickets import TicketType
from permissions.policy import Permission
from server.app import create_app
from tests.factories import Person, make_customer, make_customer_user, make_employee, make_site_object, make_ticket_type
from tests.storage import moto_s3, s3_environment, s3_requested

# Hashing cost is not what these tests measure.
permissions.passwords._hasher = PasswordHasher.from_parameters(CHEAPEST)
permissions.passwords._DUMMY_HASH = permissions.passwords._hasher.hash("timing")


async def _create_postgres_database(server_url: str) -> str:
    import asyncpg

    parsed = urlparse(server_url)
    name = f"sitedesk_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql").geturl())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return parsed._replace(path=f"/{name}").geturl()


async def _drop_postgres_database(url: str, server_url: str) -> None:
    import asyncpg

    name = urlparse(url).path.lstrip("/")
    admin = await asyncpg.connect(urlparse(server_url)._replace(scheme="postgresql").geturl())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP API for this run (moto's server mode on 127.0.0.1), started on first use."""
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
async def settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> AsyncIterator[Settings]:
    base = tmp_path_factory.mktemp("sitedesk")
    files = s3_environment(request.getfixturevalue("s3_endpoint")) if s3_requested() else {}
    server_url = os.environ.get("SITEDESK_TEST_DATABASE_URL", "")
    if server_url.startswith("postgres"):
        database_url = await _create_postgres_database(server_url)
    else:
        database_url = f"sqlite://{base / 'test.db'}"
    test_settings = settings_from_env(
        {
            "SITEDESK_DATABASE_URL": database_url,
            "SITEDESK_FILES_DIR": str(base / "files"),
            "SITEDESK_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
            "SITEDESK_ENV": "test",
            "SITEDESK_PUBLIC_URL": "https://sitedesk.test",
            **files,
        }
    )
    await migrate(test_settings)
    await Tortoise.init(config=tortoise_config(test_settings), _enable_global_fallback=True)
    yield test_settings
    await Tortoise.close_connections()
    if server_url.startswith("postgres"):
        await _drop_postgres_database(database_url, server_url)


def _tables() -> list[str]:
    models = Tortoise.apps["models"].values()
    tables = {model._meta.db_table for model in models}
    for model in models:
        for m2m in model._meta.m2m_fields:
            tables.add(model._meta.fields_map[m2m].through)
    return sorted(tables)


@pytest.fixture(autouse=True)
async def clean_database(settings: Settings) -> AsyncIterator[None]:
    yield
    connection = get_connection("default")
    tables = _tables()
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    else:
        await connection.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "DELETE FROM sqlite_sequence;"
            + "PRAGMA foreign_keys=ON;"
        )


@pytest.fixture(autouse=True)
def same_answers_on_both_paths() -> Iterator[None]:
    """With SITEDESK_COMPARE_EXECUTION=1 every operation runs on both execution paths: a test
    during which the two answered differently fails (the request itself failed too)."""
    seen = len(compare.MISMATCHES)
    yield
    assert compare.MISMATCHES[seen:] == [], "\n\n".join(compare.MISMATCHES[seen:])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    comparing = "compared with graphql-core" if compare.enabled() else "not compared"
    terminalreporter.write_line(f"GraphQL execution in this process ({comparing}): {dict(STATS)}")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL requests as a given viewer (or anonymously)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        # 401: a sent token that does not verify (the body says why); 400: a request refused unread.
        assert response.status_code in (200, 400, 401), response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a request that must succeed."""
        body = await self(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """The `extensions.code` of a request that must fail."""
        body = await self(query, variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A GraphQL multipart request as Apollo's upload client sends it.

        `files` maps a variable path ("variables.file", "variables.input.attachments.0")
        to (filename, bytes).
        """
        import json

        sent = {"Apollo-Require-Preflight": "true", **(headers or {})}
        if token or self.token:
            sent["Authorization"] = f"Bearer {token or self.token}"
        paths = list(files)
        data = {
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({str(i): [path] for i, path in enumerate(paths)}),
        }
        multipart = {
            str(i): (files[path][0], files[path][1], "application/octet-stream") for i, path in enumerate(paths)
        }
        return await self.http.post("/graphql", data=data, files=multipart, headers=sent)

    def as_viewer(self, token: str) -> GraphQLClient:
        return GraphQLClient(self.http, token)


LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken expiresIn viewer { name } }
}"""


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def files_dir(settings: Settings) -> Path:
    return settings.files_dir


@dataclass
class World:
    """Two customers and the people around them; no tickets (modules add the ones they talk about).

    Customer A "Stadtwerke" has the objects a1 "Rathaus" (Alice's) and a2 "Bauhof" (Bob's);
    customer B "Kita" has b1 "Kita Nord" (Carl's). "Reinigungsmangel" is enabled for both
    customers' portals, "Schaden" for B's only, "Urlaub" is an absence request. Employees: the
    system admin holding every permission, Jonas Weber without any permission, HR (absences)
    and Petra Schulz (check templates).
    """

    gql: GraphQLClient
    a: Customer
    b: Customer
    a1: SiteObject
    a2: SiteObject
    b1: SiteObject
    defect: TicketType  # "Reinigungsmangel", enabled for A and B
    damage: TicketType  # "Schaden", enabled for B only
    vacation: TicketType  # "Urlaub", an absence request
    admin: Person  # system admin with every permission
    staff: Person  # "Jonas Weber", no permission
    hr: Person  # MANAGE_ABSENCES
    petra: Person  # "Petra Schulz", MANAGE_CHECK_TEMPLATES
    alice: Person  # customer A, object a1
    bob: Person  # customer A, object a2
    carl: Person  # customer B, object b1

    def as_(self, person: Person) -> GraphQLClient:
        return self.gql.as_viewer(person.token)


@pytest.fixture
async def world(gql: GraphQLClient, settings: Settings) -> World:
    a = await make_customer("Stadtwerke")
    b = await make_customer("Kita")
    a1 = await make_site_object(a, "Rathaus", address="Markt 1")
    a2 = await make_site_object(a, "Bauhof", address="Weg 2")
    b1 = await make_site_object(b, "Kita Nord", address="Nordstr. 3")
    return World(
        gql,
        a,
        b,
        a1,
        a2,
        b1,
        defect=await make_ticket_type("Reinigungsmangel", enabled_for=[a, b]),
        damage=await make_ticket_type("Schaden", enabled_for=[b]),
        vacation=await make_ticket_type("Urlaub", is_absence_request=True),
        admin=await make_employee(settings, name="Admin", admin=True, permissions=Permission),
        staff=await make_employee(settings, name="Jonas Weber"),
        hr=await make_employee(settings, name="HR", permissions=[Permission.MANAGE_ABSENCES]),
        petra=await make_employee(settings, name="Petra Schulz", permissions=[Permission.MANAGE_CHECK_TEMPLATES]),
        alice=await make_customer_user(settings, a, objects=[a1], name="Alice"),
        bob=await make_customer_user(settings, a, objects=[a2], name="Bob"),
        carl=await make_customer_user(settings, b, objects=[b1], name="Carl"),
    )
