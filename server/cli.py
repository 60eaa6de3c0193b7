"""The `sitedesk` command: migrate, create-admin, seed-demo, export-schema, serve, mail-in, files gc,
retention, backup, restore, search."""

from __future__ import annotations

import argparse
import asyncio
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


def _search_reindex(args: argparse.Namespace) -> int:
    from tortoise.transactions import in_transaction

    from core.database import database
    from models.search import reindex

    async def run() -> int:
        async with database(get_settings()):
            async with in_transaction() as connection:
                return await reindex(connection)

    print(f"search index rebuilt: {asyncio.run(run())} tickets")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from execution.schema import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.database import UnmigratedDatabase, database
    from server.logs import logging_config

    settings = get_settings()
    if args.workers < 1:
        print("sitedesk: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.is_sqlite:
        print(
            "sitedesk: --workers needs PostgreSQL: SQLite allows one writing process, so several workers on it "
            "would fail with 'database is locked'. Serve with one worker, or set SITEDESK_DATABASE_URL to a "
            "postgres:// database.",
            file=sys.stderr,
        )
        return 2

    async def check() -> None:
        async with database(settings):
            pass

    try:
        asyncio.run(check())
    except UnmigratedDatabase as exc:
        print(f"sitedesk: {exc}", file=sys.stderr)
        return 1
    options: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "log_config": logging_config(settings.log_format),
        # Forwarded headers count only from SITEDESK_TRUSTED_PROXIES (server/proxies.py, in the app).
        "proxy_headers": False,
        "server_header": False,
        # A live-socket frame is at most as large as a JSON request body.
        "ws_max_size": settings.max_body_bytes,
        # A safety net: tasks still running this long after SIGTERM are cancelled.
        "timeout_graceful_shutdown": 10,
        # Live sockets: a client that stops reading is aborted within seconds (server/live.py), so no
        # compression is needed to keep its buffer small; permessage-deflate's compressor and
        # decompressor cost ~40 kB per socket (bench/results-live.md).
        "ws": "server.live:LiveWebSocketProtocol",
        "ws_per_message_deflate": False,
    }
    # server.live.Server is uvicorn's server closing live sockets with 1001 on shutdown.
    from server.live import Server

    if args.workers == 1:
        from server.app import create_app

        Server(uvicorn.Config(create_app(settings), **options)).run()  # type: ignore[arg-type]
        return 0
    _prepare_multiprocess_metrics()
    # uvicorn's process manager: N processes on one socket, each building the app from the
    # environment; a worker that dies is replaced. Its workers run uvicorn's own Server, so live
    # sockets close with 1012 (service restart) on shutdown there, not 1001.
    uvicorn.run("server.app:create_app", factory=True, workers=args.workers, **options)  # type: ignore[arg-type]
    return 0


def _prepare_multiprocess_metrics() -> None:
    """prometheus-client's multi-process mode: every worker writes its values to one directory
    (`PROMETHEUS_MULTIPROC_DIR`, emptied at start; a fresh temporary one when unset)."""
    import os
    import shutil
    import tempfile

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sitedesk-metrics-")


def _mail_in(args: argparse.Namespace) -> int:
    """`sitedesk mail-in`: one message on standard input, or `--listen host:port` as an SMTP server."""
    from core.settings import split_host_port
    from server.inbound_mail import deliver_stdin, serve_forever

    settings = get_settings()
    if args.listen:
        try:
            split_host_port(args.listen)
        except ValueError:
            print("sitedesk: --listen must be host:port, e.g. 127.0.0.1:2525", file=sys.stderr)
            return 2
        asyncio.run(serve_forever(settings, args.listen))
        return 0
    return asyncio.run(deliver_stdin(settings, args.recipient))


def _files_gc(args: argparse.Namespace) -> int:
    from core.database import database
    from files.uploads import Collected, collect_garbage

    settings = get_settings()

    async def run() -> Collected:
        async with database(settings):
            return await collect_garbage(settings, older_than_seconds=args.older_than_hours * 3600)

    done = asyncio.run(run())
    print(
        f"{settings.files_location.split('://')[0]} files: {done.examined} older than {args.older_than_hours:g} h "
        f"examined, {len(done.removed)} orphans removed, {done.temporary} stale temporary uploads removed"
    )
    return 0


def _retention(args: argparse.Namespace) -> int:
    from core.database import database
    from resolvers.personal_data.retention import expired_tickets, remove_expired_tickets

    settings = get_settings()
    if settings.retention_days is None:
        print("retention is off: SITEDESK_RETENTION_DAYS is not set; nothing removed")
        return 0

    async def run() -> int:
        async with database(settings):
            if args.dry_run:
                found = await expired_tickets(settings)
                for item in found:
                    print(
                        f"#{item.number}  done {item.done_at:%Y-%m-%d}  {item.title}  "
                        f"({item.comments} comments, {item.attachments} files)"
                    )
                print(f"{len(found)} tickets DONE for more than {settings.retention_days} days would be removed")
                return 0
            removed: list[int] = []
            while batch := await remove_expired_tickets(settings):
                removed += batch
            print(f"{len(removed)} tickets DONE for more than {settings.retention_days} days removed")
            return 0

    return asyncio.run(run())


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
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (uvicorn's process manager; PostgreSQL only)"
    )
    serve.set_defaults(run=_serve)
    mail_in = commands.add_parser(
        "mail-in", help="receive mail: one message on standard input (a pipe transport), or --listen for SMTP"
    )
    mail_in.add_argument("--recipient", help="the address the message was delivered to (else Delivered-To, To)")
    mail_in.add_argument("--listen", metavar="HOST:PORT", help="serve SMTP there until stopped (for an MTA relay)")
    mail_in.set_defaults(run=_mail_in)
    files = commands.add_parser("files", help="maintain stored files").add_subparsers(dest="files", required=True)
    gc = files.add_parser("gc", help="remove stored files no row names (older than a day)")
    gc.add_argument("--older-than-hours", type=float, default=24.0, help="only files older than this (default 24)")
    gc.set_defaults(run=_files_gc)
    retention = commands.add_parser(
        "retention", help="remove tickets DONE for longer than SITEDESK_RETENTION_DAYS, with comments and files"
    )
    retention.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    retention.set_defaults(run=_retention)
    backup = commands.add_parser("backup", help="write the database and files to a tar archive")
    backup.add_argument("path", type=Path, help="archive to create (must not exist)")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser("restore", help="restore a backup archive (Sitedesk stopped)")
    restore.add_argument("path", type=Path, help="archive written by `sitedesk backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(run=_restore)
    search = commands.add_parser("search", help="maintain the ticket search index").add_subparsers(
        dest="search", required=True
    )
    search.add_parser("reindex", help="rebuild every ticket's search document (after an upgrade)").set_defaults(
        run=_search_reindex
    )
    return parser


def configure_logging() -> None:
    """Text or JSON lines (SITEDESK_LOG_FORMAT, server/logs.py); library chatter stays below INFO."""
    import os

    from server.logs import configure

    configure("json" if os.environ.get("SITEDESK_LOG_FORMAT", "").strip().lower() == "json" else "text")


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)  # the command's exit status (set_defaults(run=…) above)
        return code
    except ConfigurationError as exc:
        print(f"sitedesk: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
