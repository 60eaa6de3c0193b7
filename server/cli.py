"""The `sitedesk` command: migrate, create-admin, seed-demo, export-schema, serve, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from core.settings import ConfigurationError, get_settings


def _migrate(args: argparse.Namespace) -> int:
    from core.database import migrate

    asyncio.run(migrate(get_settings()))
    print("database migrated")
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from core.database import database
    from core.errors import BadUserInput
    from resolvers.accounts import ensure_admin

    async def run() -> None:
        async with database(get_settings()):
            await ensure_admin(args.email, args.password, args.name)

    try:
        asyncio.run(run())
    except BadUserInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"system administrator {args.email.lower()} is ready")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from core.database import database
    from server.demo import seed_demo

    async def run() -> list[tuple[str, str, str]]:
        async with database(get_settings()):
            return await seed_demo(get_settings())

    logins = asyncio.run(run())
    if not logins:
        print("demo data is present already; nothing added")
        return 0
    print("demo logins (email / password / who):")
    for email, password, who in logins:
        print(f"  {email:32} {password:18} {who}")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from schema.schema import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.database import UnmigratedDatabase, database
    from server.app import create_app

    settings = get_settings()

    async def check() -> None:
        async with database(settings):
            pass

    try:
        asyncio.run(check())
    except UnmigratedDatabase as exc:
        print(f"sitedesk: {exc}", file=sys.stderr)
        return 1
    from server.live import Server

    config = uvicorn.Config(create_app(settings), host=args.host, port=args.port, log_level="info", proxy_headers=False)
    Server(config).run()  # uvicorn.run, closing live sockets with 1001 on shutdown
    return 0


def _backup(args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup

    try:
        summary = backup(get_settings(), args.path)
    except BackupError as exc:
        print(f"sitedesk: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {summary.path} ({summary.database} database, {summary.files} files)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from server.backup import BackupError, restore

    try:
        summary = restore(get_settings(), args.path, force=args.force)
    except BackupError as exc:
        print(f"sitedesk: restore failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {summary.path} ({summary.database} database, {summary.files} files); "
        "run `sitedesk migrate` if the backup is older than this version"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitedesk", description="Sitedesk GraphQL service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    admin = commands.add_parser("create-admin", help="create or update a system administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(run=_create_admin)
    commands.add_parser("seed-demo", help="add demo data once").set_defaults(run=_seed_demo)
    commands.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(run=_export_schema)
    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    backup = commands.add_parser("backup", help="write the database and files to a tar archive")
    backup.add_argument("path", type=Path, help="archive to create (must not exist)")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser("restore", help="restore a backup archive (Sitedesk stopped)")
    restore.add_argument("path", type=Path, help="archive written by `sitedesk backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(run=_restore)
    return parser


# Libraries that log routine work at INFO (fontTools: one line per glyph table when fpdf2 subsets a
# font); an operator reads Sitedesk's own lines, the rest stays at DEBUG.
QUIET_LOGGERS = ("fontTools", "tortoise")


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigurationError as exc:
        print(f"sitedesk: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
