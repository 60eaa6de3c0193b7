"""Data protection in the API: `exportPersonData`, `PersonExport` and `erasePerson` (system administrators)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from core.ids import decode_global_id
from files.signing import signed_url
from models.personal_data import ExportStatus as ExportStatusValue
from models.personal_data import PersonExport as PersonExportRow
from permissions.policy import SYSTEM_ADMINS
from resolvers.personal_data.erase import erase_person
from resolvers.personal_data.export import export_person
from schema.accounts import Person, viewer_object
from schema.directive import field, mutation, type_policy
from schema.relay import Node, lazy_id
from schema.tickets.types import person

PERSON_ID_DESCRIPTION = "The Employee's or CustomerUser's ID."


@strawberry.enum(description="Where an export stands.")
class ExportStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Being built in the background; poll with `node(id:)`.")
    READY = strawberry.enum_value("READY", description="Built: `downloadUrl` gives the ZIP.")
    FAILED = strawberry.enum_value("FAILED", description="Could not be built (tried several times); ask again.")


@strawberry.type(
    directives=type_policy(SYSTEM_ADMINS),
    description=(
        "An export of everything stored about one person (GDPR Art. 15 and 20), built in the background: a ZIP "
        "with person.json (format sitedesk.person-export, version 1; README, Data protection) and the files "
        "the person uploaded. Never an internal comment of others, never another customer's data."
    ),
)
class PersonExport(Node):
    id: strawberry.ID = lazy_id("PersonExport")
    created_at: datetime = strawberry.field(description="When it was requested.")
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    stored_status: strawberry.Private[ExportStatus]
    finished: strawberry.Private[datetime | None]
    expires: strawberry.Private[datetime | None]

    def _done(self, info: strawberry.Info) -> bool:
        """Finished before this request began: a build finishing during a request stays PENDING in all of
        its answer (and in both execution paths when they are compared)."""
        return self.finished is not None and self.finished <= info.context.started_at

    @field(policy=SYSTEM_ADMINS, description="PENDING until built, then READY (or FAILED).")
    def status(self, info: strawberry.Info) -> ExportStatus:
        return self.stored_status if self._done(info) else ExportStatus.PENDING

    @field(policy=SYSTEM_ADMINS, description="When it became READY or FAILED; null while PENDING.")
    def finished_at(self, info: strawberry.Info) -> datetime | None:
        return self.finished if self._done(info) else None

    @field(
        policy=SYSTEM_ADMINS,
        description="When a READY export is removed (SITEDESK_EXPORT_DAYS after it was built, 7 by default).",
    )
    def expires_at(self, info: strawberry.Info) -> datetime | None:
        return self.expires if self._done(info) and self.stored_status is ExportStatus.READY else None

    @field(
        policy=SYSTEM_ADMINS,
        description=(
            "Absolute signed URL of the ZIP, valid for a few minutes, no Authorization header needed; null until READY."
        ),
    )
    def download_url(self, info: strawberry.Info) -> str | None:
        if self.status(info) is not ExportStatus.READY:
            return None
        return signed_url(info.context.settings, "person-export", self.pk)

    @field(policy=SYSTEM_ADMINS, description="Whose data it holds (as they are shown now: anonymised once erased).")
    async def person(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.account_pk)

    @classmethod
    def from_row(cls, row: PersonExportRow) -> PersonExport:
        return cls(
            created_at=row.created_at,
            pk=row.id,
            account_pk=row.account_id,
            stored_status=ExportStatus(ExportStatusValue(row.status).value),
            finished=row.finished_at,
            expires=row.expires_at,
        )


@strawberry.type(directives=type_policy(SYSTEM_ADMINS), description="What `erasePerson` did.")
class ErasePersonPayload:
    person: Person = strawberry.field(description='The person as now shown, anonymised ("Gelöschte Person <n>").')


@strawberry.type
class PersonalDataMutations:
    @mutation(
        policy=SYSTEM_ADMINS,
        description=(
            "Start an export of everything stored about a person; poll the answer with `node(id:)` until READY. "
            "Audited (PERSON_DATA_EXPORTED)."
        ),
    )
    async def export_person_data(
        self,
        info: strawberry.Info,
        person_id: Annotated[strawberry.ID, strawberry.argument(description=PERSON_ID_DESCRIPTION)],
    ) -> PersonExport:
        row = await export_person(
            info.context.settings,
            info.context.viewer,
            info.context.client_ip,
            decode_global_id(person_id, "personId"),
        )
        return PersonExport.from_row(row)

    @mutation(
        policy=SYSTEM_ADMINS,
        description=(
            'Erase a person for good: the name becomes "Gelöschte Person <n>", no email, no password, every '
            "session and token revoked, notification settings dropped, no more mail; their name and address "
            "leave past notifications and audit summaries. Tickets, comments and files stay under the "
            "anonymous name. The last active system administrator is refused (BAD_USER_INPUT, reason "
            "LAST_ADMIN). Audited (PERSON_ERASED)."
        ),
    )
    async def erase_person(
        self,
        info: strawberry.Info,
        person_id: Annotated[strawberry.ID, strawberry.argument(description=PERSON_ID_DESCRIPTION)],
    ) -> ErasePersonPayload:
        erased = await erase_person(
            info.context.settings,
            info.context.viewer,
            info.context.client_ip,
            decode_global_id(person_id, "personId"),
        )
        return ErasePersonPayload(person=await viewer_object(erased))
