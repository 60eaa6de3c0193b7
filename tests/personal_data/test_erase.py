"""erasePerson: system administrators only; the person anonymised everywhere, their tokens refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from core.ids import to_global_id
from models.accounts import Account, LoginThrottle, RefreshToken
from models.api_tokens import ApiToken
from models.audit import AuditAction, AuditEvent
from models.notifications import Audience, DeliveryStatus, NotificationKind, OutboxMail
from permissions.api_tokens import new_api_token
from resolvers.audit import record_audit
from tests.conftest import LOGIN
from tests.factories import PASSWORD, make_comment, make_employee, make_ticket
from tests.personal_data.conftest import ERASE

ME = "{ me { name } }"
TICKET = """query($id: ID!) { node(id: $id) { ... on Ticket {
  createdBy { id name email } comments { edges { node { author { name email } body } } } } } }"""


def alice_id(world) -> str:
    return to_global_id("CustomerUser", world.alice.pk)


async def _mail_to(person, subject: str, status: DeliveryStatus) -> OutboxMail:
    now = datetime.now(UTC)
    return await OutboxMail.create(
        recipient_id=person.account.id,
        audience=Audience.CUSTOMER_USER,
        kind=NotificationKind.COMMENT_ADDED,
        to_address=person.email,
        to_name=person.account.name,
        locale="de",
        subject=subject,
        context={"greeting": f"Hallo {person.account.name}", "to": person.email},
        mail_key=hashlib.sha256(subject.encode()).hexdigest()[:36],
        status=status,
        next_attempt_at=now,
        created_at=now,
    )


async def test_customer_users_and_plain_employees_cannot_erase(world):
    for person in (world.bob, world.carl, world.staff, world.petra, world.hr, world.alice):
        body = await world.as_(person)(ERASE, {"personId": alice_id(world)})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    account = await Account.get(id=world.alice.account.id)
    assert (account.name, account.email, account.erased_at) == ("Alice", world.alice.email, None)
    assert await world.as_(world.alice).ok(ME) == {"me": {"name": "Alice"}}


async def test_erased_person_is_anonymous_everywhere_and_their_tokens_are_refused(client, world):
    alice = world.alice
    session = (await world.gql.ok(LOGIN, {"email": alice.email, "password": PASSWORD}))["login"]
    secret, token_hash, prefix = new_api_token()
    await ApiToken.create(account_id=alice.account.id, name="Portal-App", token_hash=token_hash, prefix=prefix)
    ticket = await make_ticket(world.a1, world.defect, "Heizung kalt", by=alice)
    await make_comment(ticket, alice, "Bitte schnell")
    sent = await _mail_to(alice, "Neuer Kommentar für Alice", DeliveryStatus.SENT)
    pending = await _mail_to(alice, "Noch ein Kommentar", DeliveryStatus.PENDING)
    await record_audit(
        None, AuditAction.ACCOUNT_CREATED, "CustomerUser", alice.pk, f"Customer user 'Alice' <{alice.email}> created"
    )
    await LoginThrottle.create(key="account:" + hashlib.sha256(alice.email.encode()).hexdigest(), window_started=0)

    erased = (await world.as_(world.admin).ok(ERASE, {"personId": alice_id(world)}))["erasePerson"]["person"]
    name = f"Gelöschte Person {alice.account.id}"
    assert erased == {"id": alice_id(world), "name": name, "email": None, "isActive": False}
    assert await LoginThrottle.filter(key__startswith="account:").count() == 0  # keyed by her address's hash

    # Every credential she had is refused: the access token, the refresh token, the API token, the password.
    for credential in (alice.token, secret):
        response = await client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {credential}"})
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TOKEN_REVOKED"}
    refresh = await world.gql(
        "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }", {"t": session["refreshToken"]}
    )
    assert refresh["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    login = await world.gql(LOGIN, {"email": alice.email, "password": PASSWORD})
    assert login["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await RefreshToken.filter(account_id=alice.account.id, revoked_at=None).count() == 0
    assert await ApiToken.filter(account_id=alice.account.id, revoked_at=None).count() == 0

    # Colleagues still see the ticket and the comment, under the anonymous name and with no address.
    seen = (await world.as_(world.staff).ok(TICKET, {"id": to_global_id("Ticket", ticket.id)}))["node"]
    assert seen["createdBy"] == {"id": alice_id(world), "name": name, "email": None}
    assert [e["node"] for e in seen["comments"]["edges"]] == [
        {"author": {"name": name, "email": None}, "body": "Bitte schnell"}
    ]

    # Nothing stored names her any more: account, notifications, audit summaries, login throttling.
    account = await Account.get(id=alice.account.id)
    assert alice.email not in account.email and account.password_hash == "" and account.erased_at is not None
    assert not (account.notify_comments or account.notify_status_changes or account.notify_new_tickets)
    for mail in await OutboxMail.filter(id__in=[sent.id, pending.id]):
        assert (mail.to_name, mail.to_address) == (name, "")
        assert "Alice" not in mail.subject + str(mail.context) and alice.email not in str(mail.context)
    assert (await OutboxMail.get(id=pending.id)).status == DeliveryStatus.FAILED
    assert (await OutboxMail.get(id=sent.id)).status == DeliveryStatus.SENT
    for event in await AuditEvent.all():
        assert "Alice" not in event.summary and alice.email not in event.summary, event.summary
    [erasure] = await AuditEvent.filter(action="PERSON_ERASED")
    assert (erasure.subject_type, erasure.subject_id, erasure.actor_id) == (
        "CustomerUser",
        alice.pk,
        world.admin.account.id,
    )


async def test_the_last_active_system_administrator_cannot_be_erased(world, settings):
    admin_id = to_global_id("Employee", world.admin.pk)
    body = await world.as_(world.admin)(ERASE, {"personId": admin_id})
    error = body["errors"][0]["extensions"]
    assert (error["code"], error["reason"]) == ("BAD_USER_INPUT", "LAST_ADMIN")
    assert (await Account.get(id=world.admin.account.id)).name == "Admin"
    assert await AuditEvent.filter(action="PERSON_ERASED").count() == 0

    second = await make_employee(settings, name="Zweite Admin", admin=True)
    erased = (await world.as_(second).ok(ERASE, {"personId": admin_id}))["erasePerson"]["person"]
    assert erased["name"] == f"Gelöschte Person {world.admin.account.id}" and erased["isActive"] is False
    body = await world.as_(second)(ERASE, {"personId": to_global_id("Employee", second.pk)})
    assert body["errors"][0]["extensions"]["reason"] == "LAST_ADMIN"


async def test_erasing_twice_changes_nothing_more(world):
    admin = world.as_(world.admin)
    first = await admin.ok(ERASE, {"personId": alice_id(world)})
    assert await admin.ok(ERASE, {"personId": alice_id(world)}) == first
    assert await AuditEvent.filter(action="PERSON_ERASED").count() == 1
