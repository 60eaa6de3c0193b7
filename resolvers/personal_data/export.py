"""Exports of a person's data: requested by an administrator, built in the background, downloaded as a ZIP.

`request_export` stores a PENDING `PersonExport`; `build_due_exports` claims one due export at a
time (a lease in `claim_token`/`claimed_until`: with several processes only one builds it, and an
export whose builder died is claimed again when the lease runs out), writes the ZIP (person.json,
resolvers/personal_data/document.py, then the person's files copied in chunks from the files
backend) into a temporary file beside storage — never the whole ZIP in memory — and stores it in
the files backend, content-addressed like every file. A request starts a build right away in its
own process; the background job (`PersonalDataJobs`) picks up what is left.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tortoise.transactions import in_transaction

from core.database import dialect
from core.settings import Settings
from files.backends import FileStore, store_for
from files.uploads import discard_unreferenced, release, remove_if_unreferenced, store_spooled
from models.accounts import Account
from models.audit import AuditAction
from models.personal_data import ExportStatus, PersonExport
from permissions.personal_data import visible_exports
from permissions.viewer import Viewer
from resolvers.audit import record_audit
from resolvers.people import account_of_person
from resolvers.personal_data.document import ExportFile, person_document

logger = logging.getLogger("sitedesk.personal_data")

# Long enough for a large export; a builder that dies leaves the export due again after this.
CLAIM_LEASE = timedelta(minutes=30)
MAX_ATTEMPTS = 3

_running: set[asyncio.Task[int]] = set()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def export_person(
    settings: Settings, viewer: Viewer, address: str | None, person_id: tuple[str, int]
) -> PersonExport:
    """`exportPersonData`: a PENDING export of everything about the person, audited (PERSON_DATA_EXPORTED)
    in the same transaction, and its build started in this process once that has committed."""
    type_name, pk = person_id
    account = await account_of_person(person_id, "personId")
    async with in_transaction():
        row = await PersonExport.create(
            account_id=account.id, requested_by_id=viewer.account_id, status=ExportStatus.PENDING, created_at=utcnow()
        )
        await record_audit(
            viewer,
            AuditAction.PERSON_DATA_EXPORTED,
            type_name,
            pk,
            f"Export of the data of {type_name} {account.name!r} requested",
            address,
        )
    start_building(settings)
    return row


def start_building(settings: Settings) -> None:
    """Build due exports now in this process, after the request that asked for one has answered."""
    task = asyncio.get_running_loop().create_task(build_due_exports(settings), name="sitedesk-person-export")
    _running.add(task)
    task.add_done_callback(_running.discard)


async def find_export(viewer: Viewer, export_id: int) -> PersonExport | None:
    return await visible_exports(viewer).filter(id=export_id).first()


CLAIM_POSTGRES = (
    'UPDATE "person_export" SET "claim_token" = $1, "claimed_until" = $2, "attempts" = "attempts" + 1 '
    'WHERE "id" IN (SELECT "id" FROM "person_export" WHERE "status" = $3 '
    'AND ("claimed_until" IS NULL OR "claimed_until" <= $4) ORDER BY "id" LIMIT 1 FOR UPDATE SKIP LOCKED) '
    'RETURNING "id"'
)


async def claim_one(now: datetime, token: str) -> int | None:
    """Claim the oldest due export for `token`: PENDING, and unclaimed or its lease run out."""
    async with in_transaction() as connection:
        if dialect() == "postgres":
            rows = await connection.execute_query_dict(
                CLAIM_POSTGRES, [token, now + CLAIM_LEASE, ExportStatus.PENDING.value, now]
            )
            return int(rows[0]["id"]) if rows else None
        # SQLite: one process, one connection held for the transaction.
        found = cast(
            list[int],
            await PersonExport.filter(status=ExportStatus.PENDING)
            .filter(claimed_until=None)
            .using_db(connection)
            .order_by("id")
            .limit(1)
            .values_list("id", flat=True),
        ) or cast(
            list[int],
            await PersonExport.filter(status=ExportStatus.PENDING, claimed_until__lte=now)
            .using_db(connection)
            .order_by("id")
            .limit(1)
            .values_list("id", flat=True),
        )
        if not found:
            return None
        row = await PersonExport.filter(id=found[0]).using_db(connection).get()
        await (
            PersonExport.filter(id=row.id)
            .using_db(connection)
            .update(claim_token=token, claimed_until=now + CLAIM_LEASE, attempts=row.attempts + 1)
        )
        return int(row.id)


async def build_due_exports(settings: Settings, limit: int = 5) -> int:
    """Build up to `limit` due exports one after another; how many this call claimed."""
    built = 0
    while built < limit:
        token = str(uuid.uuid4())
        export_id = await claim_one(utcnow(), token)
        if export_id is None:
            break
        built += 1
        await build_export(settings, export_id, token)
    return built


async def build_export(settings: Settings, export_id: int, token: str) -> None:
    """Write and store the ZIP of one claimed export; mark it READY, or FAILED after the last attempt."""
    export = await PersonExport.filter(id=export_id).first()
    if export is None:  # removed meanwhile (the person was erased)
        return
    try:
        account = await Account.get(id=export.account_id)
        document, files = await person_document(account)
        store = await asyncio.to_thread(store_for, settings)
        temp_path = await asyncio.to_thread(write_zip, store, document, files)
        stored = await store_spooled(settings, temp_path)
    except Exception as exc:  # anything: the export is retried, then reported as FAILED
        logger.exception("person export %s failed", export_id)
        final = export.attempts >= MAX_ATTEMPTS
        await PersonExport.filter(id=export_id, claim_token=token, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED if final else ExportStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
            claim_token=None,
            claimed_until=None if final else utcnow() + timedelta(seconds=30 * export.attempts),
            finished_at=utcnow() if final else None,
        )
        return
    now = utcnow()
    updated = await PersonExport.filter(id=export_id, claim_token=token, status=ExportStatus.PENDING).update(
        status=ExportStatus.READY,
        storage_key=stored.storage_key,
        sha256=stored.sha256,
        size=stored.size,
        content_type="application/zip",
        filename=f"sitedesk-personal-data-{export.account_id}-{now:%Y%m%d}.zip",
        finished_at=now,
        expires_at=now + timedelta(days=settings.export_days),
        claim_token=None,
        last_error=None,
    )
    if updated:
        await release([stored])
    else:  # the lease ran out and another builder took over, or the export was removed meanwhile
        await discard_unreferenced(settings, [stored])


@dataclass(frozen=True)
class Removed:
    exports: int


async def remove_expired_exports(settings: Settings, now: datetime | None = None) -> Removed:
    """READY and FAILED exports past their time go, with their ZIPs."""
    now = now or utcnow()
    cutoff_failed = now - timedelta(days=settings.export_days)
    rows = await PersonExport.filter(status=ExportStatus.READY, expires_at__lte=now).values("id", "storage_key")
    rows += await PersonExport.filter(status=ExportStatus.FAILED, created_at__lte=cutoff_failed).values(
        "id", "storage_key"
    )
    await delete_exports([row["id"] for row in rows], settings)
    return Removed(len(rows))


async def delete_exports(export_ids: list[int], settings: Settings) -> None:
    """Remove exports (rows, then the ZIPs no other row names)."""
    if not export_ids:
        return
    keys = await PersonExport.filter(id__in=export_ids).values_list("storage_key", flat=True)
    await PersonExport.filter(id__in=export_ids).delete()
    await remove_if_unreferenced(settings, sorted({str(key) for key in keys if key}))


def write_zip(store: FileStore, document: bytes, files: list[ExportFile]) -> str:
    """The ZIP in a temporary file beside storage: person.json, then each file copied in chunks."""
    handle = tempfile.NamedTemporaryFile(dir=store.spool_dir, delete=False, prefix=".upload-", suffix=".zip")
    try:
        with handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("person.json", document)
            for item in files:
                try:
                    _size, chunks = store.open(item.storage_key)
                except FileNotFoundError:
                    logger.warning("person export: %s is gone from the files backend", item.storage_key)
                    continue
                # Streamed in chunks (force_zip64: the size is not known up front).
                info = zipfile.ZipInfo(item.path, date_time=item.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as out:
                    for chunk in chunks:
                        out.write(chunk)
            handle.flush()
    except BaseException:
        os.unlink(handle.name)
        raise
    return handle.name
