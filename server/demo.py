"""Demo data for `sitedesk seed-demo`: a believable small cleaning company.

Besides the staff and the ticket types it creates two customers with three
objects each, two portal users per customer and about 200 tickets from the
last six months, with comments and a few photos. Their history is written by
the ticket services the API uses, each change made as the person who made it
at the moment it happened (`at`). Every random choice comes from one
`random.Random(2026)`, so the data is the same on every run (the timestamps
are relative to the moment of seeding).
"""

from __future__ import annotations

import io
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from tortoise.transactions import in_transaction

from core.settings import Settings, get_settings
from files.uploads import Upload, remove_if_unreferenced
from models.accounts import Account
from models.forms import FormConditionOperator as Op
from models.forms import FormElementKind as Kind
from models.notifications import DeliveryStatus, OutboxMail
from models.tickets import Ticket, TicketSource, TicketStatus, TicketType
from permissions.policy import Permission
from permissions.viewer import Viewer, load_viewer
from resolvers import accounts, customers, documents, evaluations, forms
from resolvers.tickets import (
    add_attachment,
    add_comment,
    assign_ticket,
    confirm_ticket_resolution,
    create_ticket,
    create_ticket_type,
    reopen_ticket,
    set_ticket_status,
)
from resolvers.tickets import states as ticket_states

ADMIN = (
    "admin@sitedesk.example",
    "demo-admin-2026",
    "system administrator, every permission",
)
EMPLOYEES = [
    (
        "petra.schulz@sitedesk.example",
        "demo-petra-2026",
        "Petra Schulz",
        "Objektleitung",
        [Permission.MANAGE_CHECK_TEMPLATES],
    ),
    (
        "jonas.weber@sitedesk.example",
        "demo-jonas-2026",
        "Jonas Weber",
        "Reinigungsteam",
        [],
    ),
    (
        "aylin.demir@sitedesk.example",
        "demo-aylin-2026",
        "Aylin Demir",
        "Personalbüro",
        [Permission.MANAGE_ABSENCES],
    ),
]
TICKET_TYPES = [
    ("Reinigungsmangel", False),
    ("Schaden", False),
    ("Leistungsnachweis", False),
    ("Nachreinigung", False),
    ("Urlaub", True),
    ("Krankmeldung", True),
]
# Types the customers' portal users may create and see (never absence types).
CUSTOMER_TYPES = ["Reinigungsmangel", "Schaden"]

# Customer name -> objects (name, address, rooms as "im/in der …" phrases).
CUSTOMERS: dict[str, list[tuple[str, str, list[str]]]] = {
    "Stadtwerke Musterstadt GmbH": [
        (
            "Verwaltungsgebäude Hauptstraße",
            "Hauptstraße 12, 12345 Musterstadt",
            [
                "im Besprechungsraum 2.14",
                "in der Teeküche 1. OG",
                "im Damen-WC 2. OG",
                "im Herren-WC EG",
                "im Foyer",
                "im Treppenhaus Nord",
                "im Büro 3.07",
            ],
        ),
        (
            "Kundencenter Am Markt",
            "Am Markt 3, 12345 Musterstadt",
            [
                "im Wartebereich",
                "an den Beratungsplätzen",
                "im Kunden-WC",
                "im Eingangsbereich",
                "im Sozialraum",
            ],
        ),
        (
            "Betriebshof Industriestraße",
            "Industriestraße 48, 12347 Musterstadt",
            [
                "in der Umkleide Herren",
                "in den Duschen",
                "im Pausenraum Werkstatt",
                "im Büro der Disposition",
                "im Flur zur Fahrzeughalle",
            ],
        ),
    ],
    "Kita Sonnenschein e.V.": [
        (
            "Kita Sonnenschein Lindenweg",
            "Lindenweg 7, 12345 Musterstadt",
            [
                "im Gruppenraum Bärchen",
                "im Gruppenraum Igel",
                "im Kinder-Waschraum",
                "im Schlafraum",
                "im Essbereich",
                "in der Garderobe",
            ],
        ),
        (
            "Kita Regenbogen Schulstraße",
            "Schulstraße 21, 12349 Musterstadt",
            [
                "im Gruppenraum Raupen",
                "im Bewegungsraum",
                "im Wickelbereich",
                "in der Küche",
                "im Personal-WC",
            ],
        ),
        (
            "Familienzentrum Gartenstraße",
            "Gartenstraße 5a, 12345 Musterstadt",
            [
                "im Elterncafé",
                "im Beratungsraum",
                "im Mehrzweckraum",
                "im WC EG",
                "im Treppenhaus",
            ],
        ),
    ],
}
# (email, password, name, customer, indices of the customer's objects assigned)
CUSTOMER_USERS = [
    (
        "m.brandt@stadtwerke-musterstadt.example",
        "demo-markus-2026",
        "Markus Brandt",
        "Stadtwerke Musterstadt GmbH",
        [0, 1],
    ),
    (
        "c.neumann@stadtwerke-musterstadt.example",
        "demo-claudia-2026",
        "Claudia Neumann",
        "Stadtwerke Musterstadt GmbH",
        [1, 2],
    ),
    (
        "leitung@kita-sonnenschein.example",
        "demo-sandra-2026",
        "Sandra Hoffmann",
        "Kita Sonnenschein e.V.",
        [0, 2],
    ),
    (
        "t.krueger@kita-sonnenschein.example",
        "demo-tobias-2026",
        "Tobias Krüger",
        "Kita Sonnenschein e.V.",
        [1],
    ),
]

REGULAR_TICKETS = 194
DAYS_BACK = 182

TITLES = {
    "Reinigungsmangel": [
        "Mülleimer {raum} nicht geleert",
        "Boden {raum} nicht gewischt",
        "Staub auf den Fensterbänken {raum}",
        "Papierhandtücher {raum} nicht aufgefüllt",
        "Seifenspender {raum} leer",
        "Spinnweben an der Decke {raum}",
        "Glasflächen {raum} verschmiert",
        "Waschbecken {raum} nicht gereinigt",
        "Klebrige Flecken auf dem Boden {raum}",
        "Toilettenpapier {raum} fehlt",
        "Heizkörper {raum} verstaubt",
        "Türklinken {raum} nicht desinfiziert",
    ],
    "Schaden": [
        "Wasserhahn {raum} tropft",
        "Fliese {raum} gesprungen",
        "Deckenleuchte {raum} defekt",
        "Fensterscheibe {raum} mit Riss",
        "Toilettenspülung {raum} läuft nach",
        "Bodenbelag {raum} beschädigt",
        "Türschließer {raum} klemmt",
        "Handtuchspender {raum} abgebrochen",
    ],
    "Leistungsnachweis": [
        "Glasreinigung {raum} durchgeführt",
        "Grundreinigung {raum} dokumentiert",
        "Teppichreinigung {raum} erledigt",
        "Unterhaltsreinigung {raum} abgenommen",
    ],
    "Nachreinigung": [
        "Nachreinigung {raum} nach Handwerkerarbeiten",
        "Nachreinigung {raum} nach Veranstaltung",
        "Nachreinigung {raum} nach Beanstandung",
        "Sonderreinigung {raum} nach Wasserschaden",
    ],
}
DESCRIPTIONS = {
    "Reinigungsmangel": [
        "Ist uns heute Morgen aufgefallen.",
        "Bereits zum zweiten Mal diese Woche.",
        "Bitte bei der nächsten Reinigung besonders darauf achten.",
        "Mitarbeitende haben sich beschwert.",
        "",
    ],
    "Schaden": [
        "Beim Reinigen festgestellt, bitte an die Haustechnik weitergeben.",
        "Vermutlich schon länger so. Bitte prüfen.",
        "Bereich vorsorglich abgesperrt.",
        "",
    ],
    "Leistungsnachweis": [
        "Laut Leistungsverzeichnis, Abnahme mit der Objektleitung.",
        "Durchgeführt durch das Reinigungsteam, Fotos liegen vor.",
        "",
    ],
    "Nachreinigung": [
        "Auftrag telefonisch durch den Kunden.",
        "Zusätzlicher Aufwand, bitte separat erfassen.",
        "",
    ],
}
CUSTOMER_COMMENTS = [
    "Bitte bis morgen früh erledigen, wir haben Kundentermine.",
    "Das Problem besteht leider weiterhin.",
    "Ist das schon eingeplant?",
    "Gleiches Problem auch im Nebenraum.",
    "Foto reiche ich nach.",
    "Können Sie mir einen Termin nennen?",
    "Danke für die schnelle Rückmeldung.",
]
CUSTOMER_THANKS = [
    "Danke, sieht jetzt wieder gut aus!",
    "Vielen Dank, alles in Ordnung.",
    "Danke, ist erledigt.",
]
EMPLOYEE_COMMENTS = [
    "Wir kümmern uns heute Abend darum.",
    "Ist an das Reinigungsteam weitergegeben.",
    "Der Hausmeister ist informiert.",
    "Material wurde nachbestellt, Lieferung morgen.",
    "Wir schauen uns das bei der nächsten Begehung an.",
]
EMPLOYEE_DONE = [
    "Erledigt, bitte kurz prüfen.",
    "Ist behoben.",
    "Wurde heute nachgereinigt.",
]
INTERNAL_COMMENTS = [
    "Jonas übernimmt das in der Spätschicht.",
    "Kunde ist hier sehr sensibel, bitte Vorrang.",
    "Reinigungsplan für das Objekt anpassen?",
    "Ursache: neue Kollegin kannte den Bereich nicht, Einweisung erfolgt.",
    "Nicht abrechenbar, Nachbesserung im Rahmen der Gewährleistung.",
    "Zeitaufwand ca. 45 Minuten, bitte im Stundenzettel vermerken.",
    "Reinigungsmittel war leer, Lager auffüllen.",
]
# (creator email, type, start offset in days from today (negative = past), days, status)
ABSENCES = [
    ("jonas.weber@sitedesk.example", "Urlaub", -150, 10, TicketStatus.DONE),
    ("petra.schulz@sitedesk.example", "Urlaub", -95, 5, TicketStatus.DONE),
    ("jonas.weber@sitedesk.example", "Krankmeldung", -61, 3, TicketStatus.DONE),
    ("aylin.demir@sitedesk.example", "Urlaub", -40, 7, TicketStatus.DONE),
    ("petra.schulz@sitedesk.example", "Krankmeldung", -2, 2, TicketStatus.IN_PROGRESS),
    ("jonas.weber@sitedesk.example", "Urlaub", 30, 14, TicketStatus.OPEN),
]


# Types whose tickets sometimes come with photos.
PHOTO_TYPES = ("Reinigungsmangel", "Schaden")
# What the outbox says of the mails the seeded history queued (see `_hold_back_mails`).
DEMO_MAIL_NOTE = "demo data: not sent"


@dataclass(eq=False)
class _Person:
    """A demo login as the services see it, and the objects of a customer user."""

    viewer: Viewer
    object_ids: set[int] = field(default_factory=set)


async def _person(account_id: int, object_ids: list[int] | None = None) -> _Person:
    account = await Account.get(id=account_id)
    viewer = await load_viewer(account.id, account.token_version)
    assert viewer is not None  # an account created a moment ago
    return _Person(viewer, set(object_ids or ()))


def _png(rng: random.Random) -> bytes:
    """A tiny valid PNG: a coloured "photo" with a darker stain."""
    from PIL import Image, ImageDraw

    base = tuple(rng.randint(150, 230) for _ in range(3))
    image = Image.new("RGB", (48, 36), base)
    draw = ImageDraw.Draw(image)
    x, y = rng.randint(4, 28), rng.randint(4, 18)
    draw.ellipse(
        (x, y, x + rng.randint(8, 16), y + rng.randint(6, 14)),
        fill=tuple(max(0, c - rng.randint(60, 110)) for c in base),
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def seed_demo(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """Add the demo data unless it is there; returns the demo logins it created."""
    settings = settings or get_settings()
    if await Account.filter(email=ADMIN[0]).exists():
        return []
    logins = [ADMIN]
    admin = await accounts.ensure_admin(ADMIN[0], ADMIN[1], "Sabine Admin")
    staff = {ADMIN[0]: await _person(admin.account_id)}
    for email, password, name, group_name, permissions in EMPLOYEES:
        group = await accounts.new_permission_group(group_name, permissions)
        employee = await accounts.new_employee(email, name, password, False, [group.id])
        staff[email] = await _person(employee.account_id)
        who = f"employee ({group_name}" + (": " + ", ".join(p.value for p in permissions) if permissions else "") + ")"
        logins.append((email, password, who))
    types: dict[str, TicketType] = {}
    for name, is_absence in TICKET_TYPES:
        types[name] = await create_ticket_type(name, is_absence)
    await _shape_workflows(types)

    rooms: dict[int, list[str]] = {}
    objects_of: dict[str, list[int]] = {}
    customer_ids: dict[str, int] = {}
    for customer_name, objects in CUSTOMERS.items():
        customer = await customers.create_customer(customer_name)
        customer_ids[customer_name] = customer.id
        await customers.set_customer_ticket_types(customer.id, [types[t].id for t in CUSTOMER_TYPES])
        # Proofs of service and inspection reports (the PDF on a form's re-cleaning ticket) reach the
        # portal as documents; the evaluation is on, by day.
        await documents.set_customer_document_rules(
            customer.id,
            [
                {"ticket_type_id": types["Leistungsnachweis"].id, "content_types": []},
                {"ticket_type_id": types["Nachreinigung"].id, "content_types": ["application/pdf"]},
            ],
        )
        await evaluations.set_customer_ticket_evaluation(customer.id, True, 1)
        objects_of[customer_name] = []
        for object_name, address, object_rooms in objects:
            site = await customers.create_object(customer.id, object_name, address)
            objects_of[customer_name].append(site.id)
            rooms[site.id] = object_rooms
    portal_users: list[_Person] = []
    for email, password, name, customer_name, indices in CUSTOMER_USERS:
        user = await customers.new_customer_user(customer_ids[customer_name], email, name, password)
        object_ids = [objects_of[customer_name][i] for i in indices]
        await customers.replace_customer_user_objects(user.id, object_ids)
        portal_users.append(await _person(user.account_id, object_ids))
        logins.append((email, password, f"customer user ({customer_name})"))

    history = _History(settings, random.Random(2026), staff, types, rooms, portal_users)
    await history.seed()
    await _seed_forms(settings, random.Random(6), staff, types, objects_of)
    return logins


# A change still to make: when it happens, and the service call that makes it.
Step = tuple[datetime, Callable[[], Awaitable[Any]]]


class _History:
    """About 200 tickets, each change made by the ticket services as the person who made it, at its moment."""

    def __init__(
        self,
        settings: Settings,
        rng: random.Random,
        staff: dict[str, _Person],
        types: dict[str, TicketType],
        rooms: dict[int, list[str]],
        portal_users: list[_Person],
    ) -> None:
        self.settings, self.rng, self.types, self.rooms = settings, rng, types, rooms
        self.portal_users = portal_users
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.admin = staff[ADMIN[0]]
        self.petra, self.jonas, self.aylin = (staff[e[0]] for e in EMPLOYEES)
        self.staff = staff
        self.workers = [self.jonas, self.jonas, self.petra]  # who gets tickets assigned
        self.commenters = [self.petra, self.petra, self.jonas, self.admin]
        self.customer_type_ids = {types[t].id for t in CUSTOMER_TYPES}
        self.stored: list[str] = []  # the photos' storage keys, removed again if seeding fails

    def working_time(self, day: datetime) -> datetime:
        return day.replace(
            hour=self.rng.randint(6, 19),
            minute=self.rng.randrange(0, 60, 5),
            second=0,
            microsecond=0,
        )

    def clamp(self, at: datetime) -> datetime:
        return min(at, self.now - timedelta(minutes=5))

    def plans(self) -> list[dict[str, Any]]:
        """What each ticket is, in creation order (so numbers follow time)."""
        rng, now = self.rng, self.now
        type_names = [
            "Reinigungsmangel",
            "Schaden",
            "Leistungsnachweis",
            "Nachreinigung",
        ]
        type_weights = [50, 20, 15, 15]
        object_ids = sorted(self.rooms)
        plans: list[dict[str, Any]] = []
        for _ in range(REGULAR_TICKETS):
            created = self.clamp(self.working_time(now - timedelta(days=rng.uniform(0, DAYS_BACK))))
            plans.append(
                {
                    "created": created,
                    "object": rng.choice(object_ids),
                    "type": rng.choices(type_names, type_weights)[0],
                }
            )
        for email, type_name, start_offset, days, status in ABSENCES:
            start = (now + timedelta(days=start_offset)).date()
            end = start + timedelta(days=days - 1)
            midnight = datetime.combine(start, datetime.min.time(), UTC)
            if type_name == "Krankmeldung":  # reported on the morning of the first day
                created = self.working_time(midnight).replace(hour=rng.randint(6, 8))
                description = "Arbeitsunfähigkeitsbescheinigung folgt per Post."
            else:  # requested three to six weeks ahead
                created = self.working_time(midnight - timedelta(days=rng.randint(21, 40)))
                description = "Vertretung ist mit dem Team abgesprochen."
            plans.append(
                {
                    "created": self.clamp(created),
                    "absence": status,
                    "creator": self.staff[email],
                    "type": type_name,
                    "start": start,
                    "description": description,
                    "title": f"{type_name} {start:%d.%m.} bis {end:%d.%m.%Y}",
                }
            )
        plans.sort(key=lambda p: p["created"])
        return plans

    async def seed(self) -> None:
        """Every ticket in one transaction: all of the history or none of it."""
        try:
            async with in_transaction():
                ticket_ids = []
                for plan in self.plans():
                    if "absence" in plan:
                        ticket_ids.append(await self.absence_ticket(plan))
                    else:
                        ticket_ids.append(await self.regular_ticket(plan))
                await _close_loops(random.Random(18), ticket_ids, self.now)
                await _hold_back_mails(ticket_ids)
        except BaseException:
            # Their claims rolled back with the seed, so nothing holds them any more.
            await remove_if_unreferenced(self.settings, self.stored)
            raise

    # ---------------------------------------------------------------- steps

    def comment(self, author: _Person, ticket: Ticket, body: str, internal: bool, at: datetime) -> Step:
        return at, partial(add_comment, author.viewer, ticket.id, body, internal, at=at)

    def photo(self, uploader: _Person, ticket: Ticket, filename: str, at: datetime) -> Step:
        data = _png(self.rng)  # drawn while planning, so the random sequence keeps its order

        async def upload() -> None:
            attachment = await add_attachment(
                uploader.viewer,
                self.settings,
                ticket.id,
                Upload(filename, io.BytesIO(data)),
                at=at,
            )
            self.stored.append(attachment.storage_key)

        return at, upload

    @staticmethod
    async def run(steps: list[Step]) -> None:
        # In the order they happened, so each change meets the ticket as it was then and `updated_at`
        # ends at the last one; steps at the same moment keep the order they were planned in.
        for _, step in sorted(steps, key=lambda s: s[0]):
            await step()

    # ---------------------------------------------------------------- tickets

    async def regular_ticket(self, plan: dict[str, Any]) -> int:
        rng, petra, admin = self.rng, self.petra, self.admin
        created: datetime = plan["created"]
        object_id: int = plan["object"]
        type_name: str = plan["type"]
        ticket_type = self.types[type_name]
        # Portal users who see this ticket: the object is theirs and the type enabled.
        watchers = [
            u for u in self.portal_users if object_id in u.object_ids and ticket_type.id in self.customer_type_ids
        ]
        if watchers and rng.random() < 0.65:
            creator = rng.choice(watchers)
        else:
            creator = rng.choice([petra, petra, self.jonas, admin])
        assignee, assigned_at, started_at, done_at = self.progress(created)

        title = rng.choice(TITLES[type_name]).format(raum=rng.choice(self.rooms[object_id]))
        ticket = await create_ticket(
            creator.viewer,
            self.settings,
            object_id=object_id,
            ticket_type_id=ticket_type.id,
            title=title,
            description=rng.choice(DESCRIPTIONS[type_name]),
            due_date=(created + timedelta(days=rng.randint(2, 7))).date() if type_name == "Nachreinigung" else None,
            at=created,
        )
        steps: list[Step] = []
        if type_name in PHOTO_TYPES and rng.random() < 0.08:
            steps.append(self.photo(creator, ticket, f"foto_{ticket.number}.png", created))
        if assignee:
            actor = rng.choice([petra, petra, admin])
            steps.append(
                (
                    assigned_at,
                    partial(
                        assign_ticket,
                        actor.viewer,
                        ticket.id,
                        assignee.viewer.employee_id,
                        at=assigned_at,
                    ),
                )
            )
        end = max(done_at or self.now - timedelta(minutes=10), created)
        steps += self.comments(ticket, creator, assignee, watchers, created, end)
        if started_at:
            steps.append(
                (
                    started_at,
                    partial(
                        set_ticket_status,
                        (assignee or petra).viewer,
                        ticket.id,
                        TicketStatus.IN_PROGRESS,
                        at=started_at,
                    ),
                )
            )
        if done_at:
            steps += self.closing(ticket, creator, assignee or petra, done_at, type_name in PHOTO_TYPES)
        await self.run(steps)
        return ticket.id

    def progress(self, created: datetime) -> tuple[_Person | None, datetime, datetime | None, datetime | None]:
        """Who the ticket goes to and when, when work on it starts and when it is done (None: not yet)."""
        rng, now = self.rng, self.now
        age = now - created
        # Older tickets are nearly all done; recent ones are still open or in progress.
        if age > timedelta(days=21):
            weights = [3, 5, 92]
        elif age > timedelta(days=4):
            weights = [25, 35, 40]
        else:
            weights = [60, 30, 10]
        status = rng.choices(list(TicketStatus), weights)[0]
        assignee: _Person | None = None
        assigned_at = created
        if status is not TicketStatus.OPEN or rng.random() < 0.4:
            assignee = rng.choice(self.workers)
            assigned_at = created + timedelta(minutes=rng.randint(10, 360))
        started_at = (
            assigned_at + timedelta(minutes=rng.randint(30, 24 * 60)) if status is not TicketStatus.OPEN else None
        )
        done_at = (
            started_at + timedelta(minutes=rng.randint(60, 5 * 24 * 60))
            if started_at and status is TicketStatus.DONE
            else None
        )
        # Whatever would lie in the future has not happened yet.
        if done_at and done_at >= now:
            done_at = None
        if started_at and started_at >= now:
            started_at = None
        if assigned_at >= now:
            assignee, assigned_at = None, created
        return assignee, assigned_at, started_at, done_at

    def comments(
        self,
        ticket: Ticket,
        creator: _Person,
        assignee: _Person | None,
        watchers: list[_Person],
        created: datetime,
        end: datetime,
    ) -> list[Step]:
        """Up to three comments between creation and `end`: internal notes, the staff's and the customers'."""
        rng = self.rng
        steps: list[Step] = []
        for _ in range(rng.choices([0, 1, 2, 3], [30, 35, 22, 13])[0]):
            at = created + (end - created) * rng.uniform(0.05, 0.95)
            kind = rng.random()
            if kind < 0.35:
                steps.append(
                    self.comment(
                        rng.choice(self.commenters),
                        ticket,
                        rng.choice(INTERNAL_COMMENTS),
                        True,
                        at,
                    )
                )
            elif kind < 0.7 or not watchers:
                author = assignee or rng.choice(self.commenters)
                steps.append(self.comment(author, ticket, rng.choice(EMPLOYEE_COMMENTS), False, at))
            else:
                author = creator if creator in watchers else rng.choice(watchers)
                steps.append(self.comment(author, ticket, rng.choice(CUSTOMER_COMMENTS), False, at))
        return steps

    def closing(
        self,
        ticket: Ticket,
        creator: _Person,
        closer: _Person,
        done_at: datetime,
        photos: bool,
    ) -> list[Step]:
        """Done: perhaps a last word and a photo after the work, then the status, perhaps the creator's thanks."""
        rng = self.rng
        steps: list[Step] = []
        if rng.random() < 0.5:
            steps.append(self.comment(closer, ticket, rng.choice(EMPLOYEE_DONE), False, done_at))
        if rng.random() < 0.15 and photos:
            steps.append(self.photo(closer, ticket, f"nachher_{ticket.number}.png", done_at))
        steps.append(
            (
                done_at,
                partial(
                    set_ticket_status,
                    closer.viewer,
                    ticket.id,
                    TicketStatus.DONE,
                    at=done_at,
                ),
            )
        )
        if ticket.source is TicketSource.PORTAL and rng.random() < 0.3:
            thanks_at = self.clamp(done_at + timedelta(minutes=rng.randint(60, 24 * 60)))
            if thanks_at > done_at:
                steps.append(self.comment(creator, ticket, rng.choice(CUSTOMER_THANKS), False, thanks_at))
        return steps

    async def absence_ticket(self, plan: dict[str, Any]) -> int:
        """An employee's vacation request or sick note, taken and handled by the HR office."""
        creator: _Person = plan["creator"]
        created: datetime = plan["created"]
        status: TicketStatus = plan["absence"]
        ticket_type = self.types[plan["type"]]
        hr = self.aylin.viewer
        assigned_at = self.clamp(created + timedelta(minutes=self.rng.randint(20, 180)))
        handled_at = self.clamp(assigned_at + timedelta(minutes=self.rng.randint(30, 24 * 60)))
        # Every ticket needs an object; absence types are never enabled for customers, so no
        # customer user ever sees these.
        ticket = await create_ticket(
            creator.viewer,
            self.settings,
            object_id=min(self.rooms),
            ticket_type_id=ticket_type.id,
            title=plan["title"],
            description=plan["description"],
            due_date=plan["start"],
            at=created,
        )
        await assign_ticket(hr, ticket.id, hr.employee_id, at=assigned_at)
        if status is not TicketStatus.OPEN:
            await set_ticket_status(hr, ticket.id, status, at=handled_at)
            text = (
                "Genehmigt, ist im Dienstplan eingetragen."
                if ticket_type.name == "Urlaub"
                else "Gute Besserung! Vertretung ist organisiert."
            )
            await add_comment(hr, ticket.id, text, at=handled_at)
        return ticket.id


# Issue 18: the two portal types get workflows of their own, and their customers confirm.
WORKFLOWS = {
    # type: (renamed defaults OPEN, IN_PROGRESS, DONE), further states (name, category, after position)
    "Reinigungsmangel": (("Offen", "Eingeplant", "Erledigt"), [("In Arbeit", TicketStatus.IN_PROGRESS, 2)]),
    "Schaden": (("Gemeldet", "Beauftragt", "Behoben"), []),
}
REINIGUNG_MOVES = [
    ("Offen", "Eingeplant"),
    ("Eingeplant", "In Arbeit"),
    ("In Arbeit", "Erledigt"),
    ("Eingeplant", "Erledigt"),
    ("Erledigt", "Offen"),
]
FEEDBACK = ["Sehr gründlich, danke!", "Schnell erledigt.", "In Ordnung.", "Hat zu lange gedauert.", ""]


async def _shape_workflows(types: dict[str, TicketType]) -> None:
    """Reinigungsmangel: Offen → Eingeplant → In Arbeit → Erledigt (moves restricted);
    Schaden: Gemeldet → Beauftragt → Behoben. Both ask their customers to confirm within 14 days."""
    for type_name, (names, extra) in WORKFLOWS.items():
        kind = types[type_name]
        defaults = (await ticket_states.states_of([kind.id]))[kind.id]
        for state, name in zip(defaults, names, strict=True):
            state.position *= 2
            await ticket_states.update_ticket_state(state.id, name=name, position=state.position)
        for name, category, position in extra:
            await ticket_states.create_ticket_state(kind.id, name, category, position=position + 1)
        await ticket_states.update_ticket_type(kind.id, customer_confirmation=True, reopen_window_days=14)
    kind = types["Reinigungsmangel"]
    by_name = {s.name: s.id for s in (await ticket_states.states_of([kind.id]))[kind.id]}
    await ticket_states.set_ticket_type_transitions(
        kind.id, [{"from_state_id": by_name[a], "to_state_id": by_name[b]} for a, b in REINIGUNG_MOVES]
    )


async def _close_loops(rng: random.Random, ticket_ids: list[int], now: datetime) -> None:
    """Portal creators confirm most DONE tickets of the confirming types (hours after doneAt, within the
    window), rating them; the latest one is reopened instead."""
    recent = await (
        Ticket.filter(
            id__in=ticket_ids,
            status=TicketStatus.DONE,
            source=TicketSource.PORTAL,
            ticket_type__customer_confirmation=True,
        )
        .order_by("done_at")
        .values("id", "created_by_id", "done_at")
    )
    for i, row in enumerate(recent):
        creator = await _person(row["created_by_id"])
        at = min(row["done_at"] + timedelta(hours=rng.randint(2, 48)), now - timedelta(minutes=5))
        if i == len(recent) - 1:
            await reopen_ticket(creator.viewer, row["id"], "Im Eingangsbereich ist es wieder schmutzig.", at=at)
        elif rng.random() < 0.7:
            rating = rng.choices([5, 4, 3, 2, 1], [45, 30, 13, 8, 4])[0]
            await confirm_ticket_resolution(creator.viewer, row["id"], rating, rng.choice(FEEDBACK) or None, at=at)


async def _hold_back_mails(ticket_ids: list[int]) -> None:
    """The services queued the mails this history causes; none of it happened, so none goes out.

    The rows stay (employees see which mails the product writes) but are given
    up, with a note saying why, in the transaction that queued them: the
    background sender never sees them due.
    """
    await OutboxMail.filter(ticket_id__in=ticket_ids, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, note=DEMO_MAIL_NOTE
    )


INSPECTED_ROOMS = [
    ("sanitaer", "Sanitärräume"),
    ("buero", "Büros und Gruppenräume"),
    ("treppe", "Treppenhaus und Flure"),
]


async def _seed_forms(
    settings: Settings,
    rng: random.Random,
    staff: dict[str, _Person],
    types: dict[str, TicketType],
    objects_of: dict[str, list[int]],
) -> None:
    """The "Objektbegehung" inspection (a bad room rating leads to a re-cleaning ticket with the
    report attached) and a public "Feedback" form, each with a few submissions."""
    petra, jonas = staff[EMPLOYEES[0][0]].viewer, staff[EMPLOYEES[1][0]].viewer
    elements: list[dict[str, Any]] = [
        {
            "key": "hinweis",
            "kind": Kind.INFO,
            "label": "Jeden Bereich von 1 (schlecht) bis 5 (sehr gut) bewerten.",
        }
    ]
    for key, room in INSPECTED_ROOMS:
        elements += [
            {
                "key": key,
                "kind": Kind.RATING,
                "label": room,
                "required": True,
                "scale": 5,
            },
            {
                "key": f"{key}_nach",
                "kind": Kind.YES_NO,
                "label": f"Nachreinigung notwendig? ({room})",
                "required": True,
                "visible_if": {"key": key, "operator": Op.LTE, "value": "2"},
            },
            {
                "key": f"{key}_ticket",
                "kind": Kind.CREATE_TICKET,
                "label": f"Nachreinigung {room}",
                "description": "Wird beim Abschluss als Ticket angelegt, mit dem Bericht als PDF.",
                "visible_if": {
                    "key": f"{key}_nach",
                    "operator": Op.EQ,
                    "value": "true",
                },
                "ticket": {
                    "ticket_type_id": types["Nachreinigung"].id,
                    "title": f"Nachreinigung {room}",
                    "description": "Bei der Objektbegehung beanstandet.",
                    "description_editable": True,
                    "allow_due_date": True,
                    "attach_pdf": True,
                },
            },
        ]
    elements += [
        {"key": "foto", "kind": Kind.PHOTO, "label": "Foto"},
        {"key": "bemerkungen", "kind": Kind.TEXT, "label": "Bemerkungen"},
        {
            "key": "unterschrift",
            "kind": Kind.SIGNATURE,
            "label": "Unterschrift Objektleitung",
        },
    ]
    inspection = await forms.create_template(
        petra,
        name="Objektbegehung",
        description="Monatliche Begehung mit dem Kunden.",
        elements=elements,
    )
    await forms.publish_template(petra, inspection.id)
    site_ids = [ids[0] for ids in objects_of.values()]
    ratings = [
        {"sanitaer": 4, "buero": 5, "treppe": 4},
        {"sanitaer": 2, "buero": 4, "treppe": 3},
    ]
    for index, (site_id, rated) in enumerate(zip(site_ids, ratings, strict=True)):
        answers: list[dict[str, Any]] = [{"key": key, "number": value} for key, value in rated.items()]
        answers += [{"key": f"{key}_nach", "boolean": True} for key, value in rated.items() if value <= 2]
        answers += [
            {"key": "foto", "upload": Upload("begehung.png", io.BytesIO(_png(rng)))},
            {
                "key": "bemerkungen",
                "text": "Rundgang mit der Objektleitung."
                if index == 0
                else "Waschbecken und Spiegel im Damen-WC verschmutzt.",
            },
        ]
        await forms.submit_form(
            jonas,
            settings,
            template_id=inspection.id,
            object_id=site_id,
            answers=answers,
            client_submission_id=f"demo-begehung-{index}",
        )

    feedback = await forms.create_template(
        petra,
        name="Feedback",
        description="Wie zufrieden sind Sie mit unserer Reinigung?",
        is_public=True,
        elements=[
            {
                "key": "zufriedenheit",
                "kind": Kind.RATING,
                "label": "Wie zufrieden sind Sie insgesamt?",
                "required": True,
                "scale": 5,
            },
            {
                "key": "bereich",
                "kind": Kind.SINGLE_CHOICE,
                "label": "Welcher Bereich?",
                "options": ["Büro", "Sanitär", "Küche", "Außenbereich"],
            },
            {
                "key": "verbesserung",
                "kind": Kind.TEXT,
                "label": "Was können wir besser machen?",
            },
            {
                "key": "kontakt",
                "kind": Kind.YES_NO,
                "label": "Dürfen wir Sie kontaktieren?",
            },
            {
                "key": "email",
                "kind": Kind.TEXT,
                "label": "Ihre E-Mail-Adresse",
                "required": True,
                "visible_if": {"key": "kontakt", "operator": Op.EQ, "value": "true"},
            },
        ],
    )
    feedback = await forms.publish_template(petra, feedback.id)
    for score, area, text, email in [
        (5, "Büro", "", None),
        (2, "Sanitär", "Seife oft leer.", "k.meier@example.org"),
        (4, "Küche", "Spülmaschine bitte öfter ausräumen.", None),
    ]:
        answers = [
            {"key": "zufriedenheit", "number": score},
            {"key": "bereich", "choices": [area]},
            {"key": "verbesserung", "text": text or None},
            {"key": "kontakt", "boolean": email is not None},
        ]
        if email:
            answers.append({"key": "email", "text": email})
        assert feedback.public_token is not None  # published public templates have their link
        await forms.submit_public_form(settings, feedback.public_token, answers)
