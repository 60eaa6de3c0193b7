"""Demo data for `sitedesk seed-demo`: a believable small cleaning company.

Besides the staff and the ticket types it creates two customers with three
objects each, two portal users per customer and about 200 tickets from the
last six months, with comments, a few photos and a consistent history. Every
random choice comes from one `random.Random(2026)`, so the data is the same on
every run (the timestamps are relative to the moment of seeding).
"""

from __future__ import annotations

import asyncio
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from core.settings import Settings, get_settings
from files.storage import StoredFile, store
from files.uploads import Upload, discard_unreferenced
from models.accounts import Account
from models.forms import FormConditionOperator as Op
from models.forms import FormElementKind as Kind
from models.tickets import (
    Attachment,
    Comment,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
    TicketStatus,
    TicketType,
)
from permissions.policy import Permission
from permissions.viewer import load_viewer
from resolvers import accounts, customers, documents, evaluations, forms
from resolvers.evaluations import whole_days
from resolvers.tickets import create_ticket_type, next_ticket_number

ADMIN = ("admin@sitedesk.example", "demo-admin-2026", "system administrator, every permission")
EMPLOYEES = [
    (
        "petra.schulz@sitedesk.example",
        "demo-petra-2026",
        "Petra Schulz",
        "Objektleitung",
        [Permission.MANAGE_CHECK_TEMPLATES],
    ),
    ("jonas.weber@sitedesk.example", "demo-jonas-2026", "Jonas Weber", "Reinigungsteam", []),
    ("aylin.demir@sitedesk.example", "demo-aylin-2026", "Aylin Demir", "Personalbüro", [Permission.MANAGE_ABSENCES]),
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
            ["im Wartebereich", "an den Beratungsplätzen", "im Kunden-WC", "im Eingangsbereich", "im Sozialraum"],
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
            ["im Gruppenraum Raupen", "im Bewegungsraum", "im Wickelbereich", "in der Küche", "im Personal-WC"],
        ),
        (
            "Familienzentrum Gartenstraße",
            "Gartenstraße 5a, 12345 Musterstadt",
            ["im Elterncafé", "im Beratungsraum", "im Mehrzweckraum", "im WC EG", "im Treppenhaus"],
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
    ("leitung@kita-sonnenschein.example", "demo-sandra-2026", "Sandra Hoffmann", "Kita Sonnenschein e.V.", [0, 2]),
    ("t.krueger@kita-sonnenschein.example", "demo-tobias-2026", "Tobias Krüger", "Kita Sonnenschein e.V.", [1]),
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


@dataclass
class _Person:
    account_id: int
    employee_id: int | None = None
    object_ids: set[int] = field(default_factory=set)
    customer_id: int | None = None


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
    staff = {ADMIN[0]: _Person(admin.account_id, admin.id)}
    for email, password, name, group_name, permissions in EMPLOYEES:
        group = await accounts.create_permission_group(group_name, permissions)
        employee = await accounts.create_employee(email, name, password, False, [group.id])
        staff[email] = _Person(employee.account_id, employee.id)
        who = f"employee ({group_name}" + (": " + ", ".join(p.value for p in permissions) if permissions else "") + ")"
        logins.append((email, password, who))
    types: dict[str, TicketType] = {}
    for name, is_absence in TICKET_TYPES:
        types[name] = await create_ticket_type(name, is_absence)

    rooms: dict[int, list[str]] = {}
    objects_of: dict[str, list[int]] = {}
    customer_ids: dict[str, int] = {}
    for customer_name, objects in CUSTOMERS.items():
        customer = await customers.create_customer(customer_name)
        customer_ids[customer_name] = customer.id
        await customers.set_customer_ticket_types(customer.id, [types[t].id for t in CUSTOMER_TYPES])
        # Proofs of service reach the portal as documents; the evaluation is on, by day.
        await documents.set_customer_document_rules(
            customer.id, [{"ticket_type_id": types["Leistungsnachweis"].id, "content_types": []}]
        )
        await evaluations.set_customer_ticket_evaluation(customer.id, True, 1)
        objects_of[customer_name] = []
        for object_name, address, object_rooms in objects:
            site = await customers.create_object(customer.id, object_name, address)
            objects_of[customer_name].append(site.id)
            rooms[site.id] = object_rooms
    portal_users: list[_Person] = []
    for email, password, name, customer_name, indices in CUSTOMER_USERS:
        user = await customers.create_customer_user(customer_ids[customer_name], email, name, password)
        object_ids = [objects_of[customer_name][i] for i in indices]
        await customers.set_customer_user_objects(user.id, object_ids)
        portal_users.append(_Person(user.account_id, None, set(object_ids), customer_ids[customer_name]))
        logins.append((email, password, f"customer user ({customer_name})"))

    await _seed_tickets(settings, random.Random(2026), staff, types, rooms, portal_users)
    await _seed_forms(settings, random.Random(6), staff, types, objects_of)
    return logins


async def _seed_tickets(
    settings: Settings,
    rng: random.Random,
    staff: dict[str, _Person],
    types: dict[str, TicketType],
    rooms: dict[int, list[str]],
    portal_users: list[_Person],
) -> None:
    """About 200 tickets with history, written directly with historic timestamps."""
    now = datetime.now(UTC).replace(microsecond=0)
    admin = staff[ADMIN[0]]
    petra, jonas, aylin = (staff[e[0]] for e in EMPLOYEES)
    workers = [jonas, jonas, petra]  # who gets tickets assigned
    commenters = [petra, petra, jonas, admin]
    customer_type_ids = {types[t].id for t in CUSTOMER_TYPES}
    type_names = ["Reinigungsmangel", "Schaden", "Leistungsnachweis", "Nachreinigung"]
    type_weights = [50, 20, 15, 15]
    object_ids = sorted(rooms)

    def working_time(day: datetime) -> datetime:
        return day.replace(hour=rng.randint(6, 19), minute=rng.randrange(0, 60, 5), second=0, microsecond=0)

    def clamp(at: datetime) -> datetime:
        return min(at, now - timedelta(minutes=5))

    # Plan the tickets first, then write them in creation order, so numbers follow time.
    plans: list[dict[str, Any]] = []
    for _ in range(REGULAR_TICKETS):
        created = clamp(working_time(now - timedelta(days=rng.uniform(0, DAYS_BACK))))
        plans.append(
            {"created": created, "object": rng.choice(object_ids), "type": rng.choices(type_names, type_weights)[0]}
        )
    for email, type_name, start_offset, days, status in ABSENCES:
        start = (now + timedelta(days=start_offset)).date()
        end = start + timedelta(days=days - 1)
        midnight = datetime.combine(start, datetime.min.time(), UTC)
        if type_name == "Krankmeldung":  # reported on the morning of the first day
            created = working_time(midnight).replace(hour=rng.randint(6, 8))
            description = "Arbeitsunfähigkeitsbescheinigung folgt per Post."
        else:  # requested three to six weeks ahead
            created = working_time(midnight - timedelta(days=rng.randint(21, 40)))
            description = "Vertretung ist mit dem Team abgesprochen."
        plans.append(
            {
                "created": clamp(created),
                "absence": status,
                "creator": staff[email],
                "type": type_name,
                "start": start,
                "description": description,
                "title": f"{type_name} {start:%d.%m.} bis {end:%d.%m.%Y}",
            }
        )
    plans.sort(key=lambda p: p["created"])

    photos: list[StoredFile] = []
    events: list[TicketEvent] = []

    def event(
        ticket_id: int,
        kind: TicketEventKind,
        actor: int | None,
        at: datetime,
        from_value: Any = None,
        to_value: Any = None,
    ) -> None:
        events.append(
            TicketEvent(
                ticket_id=ticket_id,
                kind=kind,
                actor_id=actor,
                created_at=at,
                from_value=None if from_value is None else str(from_value)[:200],
                to_value=None if to_value is None else str(to_value)[:200],
            )
        )

    async def photo(ticket_id: int, uploader: int, filename: str, at: datetime, connection: Any) -> None:
        data = _png(rng)
        stored = await asyncio.to_thread(store, settings.files_dir, io.BytesIO(data), settings.max_upload_bytes)
        photos.append(stored)
        await Attachment.create(
            ticket_id=ticket_id,
            uploaded_by_id=uploader,
            filename=filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.storage_key,
            created_at=at,
            using_db=connection,
        )
        event(ticket_id, TicketEventKind.ATTACHMENT_ADDED, uploader, at, to_value=filename)

    async def comment(ticket_id: int, author: int, body: str, internal: bool, at: datetime, connection: Any) -> None:
        row = await Comment.create(
            ticket_id=ticket_id, author_id=author, body=body, internal=internal, created_at=at, using_db=connection
        )
        event(ticket_id, TicketEventKind.COMMENT_ADDED, author, at, to_value=row.id)

    try:
        async with in_transaction() as connection:
            for plan in plans:
                if "absence" in plan:
                    await _absence_ticket(connection, rng, clamp, aylin, types, rooms, plan, event, comment)
                else:
                    await _regular_ticket(
                        plan,
                        rng,
                        now,
                        connection,
                        types,
                        rooms,
                        portal_users,
                        customer_type_ids,
                        workers,
                        commenters,
                        petra,
                        admin,
                        clamp,
                        event,
                        photo,
                        comment,
                    )
            await TicketEvent.bulk_create(events, using_db=connection)
    except BaseException:
        await discard_unreferenced(settings, photos)
        raise


async def _regular_ticket(
    plan: dict[str, Any],
    rng: random.Random,
    now: datetime,
    connection: Any,
    types: dict[str, TicketType],
    rooms: dict[int, list[str]],
    portal_users: list[_Person],
    customer_type_ids: set[int],
    workers: list[_Person],
    commenters: list[_Person],
    petra: _Person,
    admin: _Person,
    clamp: Any,
    event: Any,
    photo: Any,
    comment: Any,
) -> None:
    created: datetime = plan["created"]
    object_id: int = plan["object"]
    type_name: str = plan["type"]
    ticket_type = types[type_name]
    # Portal users who see this ticket: the object is theirs and the type enabled.
    watchers = [u for u in portal_users if object_id in u.object_ids and ticket_type.id in customer_type_ids]
    if watchers and rng.random() < 0.65:
        creator, source = rng.choice(watchers), TicketSource.PORTAL
    else:
        creator, source = rng.choice([petra, petra, workers[0], admin]), TicketSource.BACKOFFICE

    age = now - created
    # Older tickets are nearly all done; recent ones are still open or in progress.
    if age > timedelta(days=21):
        status = rng.choices(list(TicketStatus), [3, 5, 92])[0]
    elif age > timedelta(days=4):
        status = rng.choices(list(TicketStatus), [25, 35, 40])[0]
    else:
        status = rng.choices(list(TicketStatus), [60, 30, 10])[0]

    assignee = None
    assigned_at = created
    if status is not TicketStatus.OPEN or rng.random() < 0.4:
        assignee = rng.choice(workers)
        assigned_at = created + timedelta(minutes=rng.randint(10, 360))
    started_at = done_at = None
    if status is not TicketStatus.OPEN:
        started_at = assigned_at + timedelta(minutes=rng.randint(30, 24 * 60))
    if status is TicketStatus.DONE:
        done_at = started_at + timedelta(minutes=rng.randint(60, 5 * 24 * 60))
    # Whatever would lie in the future has not happened yet.
    if done_at and done_at >= now:
        status, done_at = TicketStatus.IN_PROGRESS, None
    if started_at and started_at >= now:
        status, started_at = TicketStatus.OPEN, None
    if assigned_at >= now:
        assignee, assigned_at = None, created

    title = rng.choice(TITLES[type_name]).format(raum=rng.choice(rooms[object_id]))
    ticket = await Ticket.create(
        number=await next_ticket_number(connection),
        title=title,
        description=rng.choice(DESCRIPTIONS[type_name]),
        status=status,
        ticket_type_id=ticket_type.id,
        object_id=object_id,
        assignee_id=assignee.employee_id if assignee else None,
        due_date=(created + timedelta(days=rng.randint(2, 7))).date() if type_name == "Nachreinigung" else None,
        created_by_id=creator.account_id,
        source=source,
        created_at=created,
        updated_at=created,
        done_at=done_at,
        resolution_days=whole_days(created, done_at) if done_at else None,
        using_db=connection,
    )
    event(ticket.id, TicketEventKind.CREATED, creator.account_id, created, to_value=ticket.number)
    last = created
    if type_name in ("Reinigungsmangel", "Schaden") and rng.random() < 0.08:
        await photo(ticket.id, creator.account_id, f"foto_{ticket.number}.png", created, connection)
    if assignee:
        actor = rng.choice([petra, petra, admin])
        event(ticket.id, TicketEventKind.ASSIGNEE_CHANGED, actor.account_id, assigned_at, None, assignee.employee_id)
        last = max(last, assigned_at)
    end = max(done_at or now - timedelta(minutes=10), created)
    for _ in range(rng.choices([0, 1, 2, 3], [30, 35, 22, 13])[0]):
        at = created + (end - created) * rng.uniform(0.05, 0.95)
        kind = rng.random()
        if kind < 0.35:
            await comment(
                ticket.id, rng.choice(commenters).account_id, rng.choice(INTERNAL_COMMENTS), True, at, connection
            )
        elif kind < 0.7 or not watchers:
            author = assignee or rng.choice(commenters)
            await comment(ticket.id, author.account_id, rng.choice(EMPLOYEE_COMMENTS), False, at, connection)
        else:
            author = creator if creator in watchers else rng.choice(watchers)
            await comment(ticket.id, author.account_id, rng.choice(CUSTOMER_COMMENTS), False, at, connection)
        last = max(last, at)
    if started_at:
        event(
            ticket.id,
            TicketEventKind.STATUS_CHANGED,
            (assignee or petra).account_id,
            started_at,
            TicketStatus.OPEN.value,
            TicketStatus.IN_PROGRESS.value,
        )
        last = max(last, started_at)
    if done_at:
        closer = assignee or petra
        if rng.random() < 0.5:
            await comment(ticket.id, closer.account_id, rng.choice(EMPLOYEE_DONE), False, done_at, connection)
        if rng.random() < 0.15 and type_name in ("Reinigungsmangel", "Schaden"):
            await photo(ticket.id, closer.account_id, f"nachher_{ticket.number}.png", done_at, connection)
        event(
            ticket.id,
            TicketEventKind.STATUS_CHANGED,
            closer.account_id,
            done_at,
            TicketStatus.IN_PROGRESS.value,
            TicketStatus.DONE.value,
        )
        last = max(last, done_at)
        if source is TicketSource.PORTAL and rng.random() < 0.3:
            thanks_at = clamp(done_at + timedelta(minutes=rng.randint(60, 24 * 60)))
            if thanks_at > done_at:
                await comment(ticket.id, creator.account_id, rng.choice(CUSTOMER_THANKS), False, thanks_at, connection)
                last = max(last, thanks_at)
    await Ticket.filter(id=ticket.id).using_db(connection).update(updated_at=last)


async def _absence_ticket(
    connection: Any,
    rng: random.Random,
    clamp: Any,
    hr: _Person,
    types: dict[str, TicketType],
    rooms: dict[int, list[str]],
    plan: dict[str, Any],
    event: Any,
    comment: Any,
) -> None:
    """An employee's vacation request or sick note, handled by the HR office."""
    creator: _Person = plan["creator"]
    created: datetime = plan["created"]
    status: TicketStatus = plan["absence"]
    ticket_type = types[plan["type"]]
    title, description, start = plan["title"], plan["description"], plan["start"]
    # Every ticket needs an object; absence types are never enabled for customers, so no
    # customer user ever sees these.
    object_id = sorted(rooms)[0]
    assigned_at = clamp(created + timedelta(minutes=rng.randint(20, 180)))
    handled_at = clamp(assigned_at + timedelta(minutes=rng.randint(30, 24 * 60)))
    done_at = handled_at if status is TicketStatus.DONE else None
    ticket = await Ticket.create(
        number=await next_ticket_number(connection),
        title=title,
        description=description,
        status=status,
        ticket_type_id=ticket_type.id,
        object_id=object_id,
        assignee_id=hr.employee_id,
        due_date=start,
        created_by_id=creator.account_id,
        source=TicketSource.BACKOFFICE,
        created_at=created,
        updated_at=handled_at if status is not TicketStatus.OPEN else assigned_at,
        done_at=done_at,
        resolution_days=whole_days(created, done_at) if done_at else None,
        using_db=connection,
    )
    event(ticket.id, TicketEventKind.CREATED, creator.account_id, created, to_value=ticket.number)
    event(ticket.id, TicketEventKind.ASSIGNEE_CHANGED, hr.account_id, assigned_at, None, hr.employee_id)
    if status is TicketStatus.OPEN:
        return
    event(ticket.id, TicketEventKind.STATUS_CHANGED, hr.account_id, handled_at, TicketStatus.OPEN.value, status.value)
    text = (
        "Genehmigt, ist im Dienstplan eingetragen."
        if ticket_type.name == "Urlaub"
        else "Gute Besserung! Vertretung ist organisiert."
    )
    await comment(ticket.id, hr.account_id, text, False, handled_at, connection)


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

    async def viewer_of(person: _Person):
        account = await Account.get(id=person.account_id)
        return await load_viewer(account.id, account.token_version)

    petra, jonas = await viewer_of(staff[EMPLOYEES[0][0]]), await viewer_of(staff[EMPLOYEES[1][0]])
    elements: list[dict[str, Any]] = [
        {"key": "hinweis", "kind": Kind.INFO, "label": "Jeden Bereich von 1 (schlecht) bis 5 (sehr gut) bewerten."}
    ]
    for key, room in INSPECTED_ROOMS:
        elements += [
            {"key": key, "kind": Kind.RATING, "label": room, "required": True, "scale": 5},
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
                "visible_if": {"key": f"{key}_nach", "operator": Op.EQ, "value": "true"},
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
        {"key": "unterschrift", "kind": Kind.SIGNATURE, "label": "Unterschrift Objektleitung"},
    ]
    inspection = await forms.create_template(
        petra, name="Objektbegehung", description="Monatliche Begehung mit dem Kunden.", elements=elements
    )
    await forms.publish_template(petra, inspection.id)
    site_ids = [ids[0] for ids in objects_of.values()]
    ratings = [{"sanitaer": 4, "buero": 5, "treppe": 4}, {"sanitaer": 2, "buero": 4, "treppe": 3}]
    for index, (site_id, rated) in enumerate(zip(site_ids, ratings)):
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
            {"key": "verbesserung", "kind": Kind.TEXT, "label": "Was können wir besser machen?"},
            {"key": "kontakt", "kind": Kind.YES_NO, "label": "Dürfen wir Sie kontaktieren?"},
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
        await forms.submit_public_form(settings, feedback.public_token, answers)
