"""Customers, their objects and portal configuration."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from core.ids import parse_id
from models.customers import Customer as CustomerRow
from models.customers import SiteObject as SiteObjectRow
from permissions.inbound_mail import READ_CHANNEL
from permissions.policy import EMPLOYEES, PORTAL_ADMINS, SIGNED_IN
from resolvers import customers, documents, evaluations
from resolvers.customers import CUSTOMERS, OBJECTS
from resolvers.documents import DOCUMENTS
from resolvers.inbound_mail.administration import intake_address
from resolvers.tickets.read import ticket_listing
from schema.accounts import CustomerUser, Employee, client_address
from schema.directive import field, mutation, type_policy
from schema.documents import (
    Document,
    DocumentRule,
    DocumentRuleInput,
    document_connection,
    document_rules_of,
    documents_of,
)
from schema.evaluations import (
    TicketEvaluation,
    TicketEvaluationSettings,
    customer_evaluation,
    evaluation_settings,
    object_evaluation,
)
from schema.inputs import CustomerId, decoded, decoded_list
from schema.loaders import (
    customer_by_id,
    intake_key_by_object_id,
    responsible_employees_by_object_id,
    ticket_type_by_id,
)
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    lazy_id,
    paged,
)
from schema.selection import selection_tree
from schema.tickets import TicketFilterInput, TicketType, ticket_connection
from schema.tickets.search import TicketConnection

FromArgument = Annotated[date | None, strawberry.argument(name="from", description="First day (UTC), inclusive.")]
ToArgument = Annotated[date | None, strawberry.argument(name="to", description="Last day (UTC), inclusive.")]
EVALUATION_PERIOD = " Tickets done within [from, to] (UTC days, both inclusive) when given."


@strawberry.type(directives=type_policy(SIGNED_IN), description="A client company.")
class Customer(Node):
    id: strawberry.ID = lazy_id("Customer")
    name: str = strawberry.field(description="The company's name.")
    pk: strawberry.Private[int]

    @field(policy=EMPLOYEES, description="Which attachments are published as documents on the customer's objects.")
    async def document_rules(self, info: strawberry.Info) -> list[DocumentRule] | None:
        return await document_rules_of(info, self.pk)

    @field(policy=SIGNED_IN, description="Whether the customer's users see the ticket evaluation, and its group size.")
    async def ticket_evaluation_settings(self, info: strawberry.Info) -> TicketEvaluationSettings:
        return await evaluation_settings(info, self.pk)

    @field(
        policy=EMPLOYEES,
        description="The ticket evaluation over all of the customer's objects, "
        "whether or not it is switched on for its users." + EVALUATION_PERIOD,
    )
    async def ticket_evaluation(
        self, info: strawberry.Info, from_: FromArgument = None, to: ToArgument = None
    ) -> TicketEvaluation | None:
        return await customer_evaluation(info, self.pk, from_, to)

    @field(
        policy=READ_CHANNEL,
        description="The type of the tickets its users open by mail to an object's intake address; null: "
        "such mail is refused (`setCustomerMailTicketType`).",
    )
    async def mail_ticket_type(self, info: strawberry.Info) -> TicketType | None:
        row = await customer_by_id(info).load(self.pk)
        if row is None or row.mail_ticket_type_id is None:
            return None
        kind = await ticket_type_by_id(info).load(row.mail_ticket_type_id)
        return TicketType.from_row(kind) if kind is not None else None

    @classmethod
    def from_row(cls, row: CustomerRow) -> Customer:
        return cls(name=row.name, pk=row.id)


@strawberry.type(directives=type_policy(SIGNED_IN), description="A site the company serves (Objekt).")
class SiteObject(Node):
    id: strawberry.ID = lazy_id("SiteObject")
    name: str = strawberry.field(description="How everyone calls it, e.g. Rathaus.")
    address: str = strawberry.field(description="Its postal address, as one text; may be empty.")
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    # The customer's name when it was loaded with the object (one joined query).
    customer_name: strawberry.Private[str | None] = None

    @field(policy=SIGNED_IN, description="The customer it belongs to.")
    def customer(self, info: strawberry.Info) -> Customer:
        if self.customer_name is not None:
            return Customer(name=self.customer_name, pk=self.customer_pk)
        return _customer(info, self.customer_pk)  # type: ignore[return-value]

    @field(policy=SIGNED_IN, description="The tickets on this object the viewer may see.")
    @paged(ticket_listing("CREATED_AT", True))
    async def tickets(
        self,
        info: strawberry.Info,
        filter: Annotated[
            TicketFilterInput | None,
            strawberry.argument(description="Narrows the list; absent: every ticket on the object the viewer may see."),
        ] = None,
        *,
        page: Paging,
    ) -> TicketConnection:
        return await ticket_connection(info, filter, page, object_pk=self.pk)

    @field(
        policy=SIGNED_IN,
        description="Files published on this object by the customer's document rules, "
        "newest first. Customer users get the file, never the ticket behind it.",
        deprecation_reason="Use `documentPage`, a connection; this list goes in the next major version.",
    )
    async def documents(self, info: strawberry.Info) -> list[Document]:
        return await documents_of(info, self.pk)

    @field(
        policy=SIGNED_IN,
        description="Files published on this object by the customer's document rules, newest first, as a "
        "connection (keyset pages). Customer users get the file, never the ticket behind it.",
    )
    @paged(DOCUMENTS)
    async def document_page(self, info: strawberry.Info, page: Paging) -> Connection[Document]:
        return await document_connection(info, self.pk, page)

    @field(
        policy=SIGNED_IN,
        description="The ticket evaluation of this object; null for customer users while "
        "their customer has it switched off." + EVALUATION_PERIOD,
    )
    async def ticket_evaluation(
        self, info: strawberry.Info, from_: FromArgument = None, to: ToArgument = None
    ) -> TicketEvaluation | None:
        return await object_evaluation(info, self.pk, from_, to)

    @field(
        policy=EMPLOYEES,
        description="The employees responsible for this object: mailed when a customer user creates a "
        "ticket here without assignee, or a form does (`setObjectResponsibles`).",
    )
    async def responsible_employees(self, info: strawberry.Info) -> list[Employee] | None:
        rows = await responsible_employees_by_object_id(info).load(self.pk)
        return [Employee.from_rows(row, row.account) for row in rows]

    @field(
        policy=READ_CHANNEL,
        description="Mail to this address from a customer user who sees the object opens a ticket of the "
        'customer\'s mail ticket type: "<key>@SITEDESK_INBOUND_DOMAIN", the key secret '
        "(`rotateObjectIntakeAddress`); null while the email channel is off.",
    )
    async def intake_address(self, info: strawberry.Info) -> str | None:
        settings = info.context.settings
        if not settings.inbound_domain:
            return None
        return intake_address(settings, await intake_key_by_object_id(info).load(self.pk))

    @classmethod
    def from_row(cls, row: SiteObjectRow, customer_name: str | None = None) -> SiteObject:
        return cls(
            name=row.name,
            address=row.address,
            pk=row.id,
            customer_pk=row.customer_id,
            customer_name=customer_name,
        )


async def _customer(info: strawberry.Info, pk: int) -> Customer:
    return Customer.from_row(await customer_by_id(info).load(pk))


@strawberry.input(description="A new customer (client company).")
class CreateCustomerInput:
    name: str = strawberry.field(description="The company's name, shown to its users.")


@strawberry.input(description="A new object (a building or site) of a customer.")
class CreateObjectInput:
    customer_id: CustomerId = strawberry.field(description="The customer it belongs to.")
    name: str = strawberry.field(description="How everyone calls it, e.g. Rathaus.")
    address: str = strawberry.field(default="", description="Its postal address, as one text.")


@strawberry.input(description="A new customer user: a customer's staff member who signs in to the portal.")
class CreateCustomerUserInput:
    customer_id: CustomerId = strawberry.field(description="The customer they work for.")
    email: str = strawberry.field(
        description="Their sign-in; unique across employees and customer users, compared ignoring case."
    )
    name: str = strawberry.field(description="Shown to employees and on their tickets and comments.")
    password: str = strawberry.field(description="Their first password; at least 8 characters.")


@strawberry.type
class CustomerQueries:
    @field(policy=SIGNED_IN, description="Objects; customer users see their assigned objects only.")
    @paged(OBJECTS)
    async def objects(self, info: strawberry.Info, page: Paging) -> Connection[SiteObject]:
        counted = "totalCount" in selection_tree(info)  # a statement less for a list that shows no total
        rows, total = await customers.object_page(info.context.viewer, page.window, counted)
        return connection([SiteObject.from_row(r) for r in rows], rows, page, total or 0)

    @field(policy=EMPLOYEES, description="Every customer.")
    @paged(CUSTOMERS)
    async def customers(self, info: strawberry.Info, page: Paging) -> Connection[Customer]:
        rows, total = await customers.customer_page(info.context.viewer, page.window)
        return connection([Customer.from_row(r) for r in rows], rows, page, total)


@strawberry.type
class CustomerMutations:
    @mutation(policy=PORTAL_ADMINS, description="A new customer, with no objects, users or enabled ticket types yet.")
    async def create_customer(
        self, input: Annotated[CreateCustomerInput, strawberry.argument(description="The new customer.")]
    ) -> Customer:
        return Customer.from_row(await customers.create_customer(**decoded(input)))

    @mutation(policy=PORTAL_ADMINS, description="A new object of a customer.")
    async def create_object(
        self, input: Annotated[CreateObjectInput, strawberry.argument(description="The new object.")]
    ) -> SiteObject:
        return SiteObject.from_row(await customers.create_object(**decoded(input)))

    @mutation(
        policy=PORTAL_ADMINS,
        description="A new customer user; they see nothing until assigned objects (`setCustomerUserObjects`).",
    )
    async def create_customer_user(
        self,
        info: strawberry.Info,
        input: Annotated[CreateCustomerUserInput, strawberry.argument(description="The new customer user.")],
    ) -> CustomerUser:
        row, account = await customers.create_customer_user(info.context.viewer, client_address(info), **decoded(input))
        return CustomerUser.from_rows(row, account)

    @mutation(policy=PORTAL_ADMINS, description="Replace the objects a customer user is assigned.")
    async def set_customer_user_objects(
        self,
        info: strawberry.Info,
        customer_user_id: Annotated[strawberry.ID, strawberry.argument(description="The customer user's ID.")],
        object_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="All the objects they are assigned from now on (their customer's)."),
        ],
    ) -> CustomerUser:
        user_id = parse_id(customer_user_id, "CustomerUser", field="customerUserId")
        ids = [parse_id(gid, "SiteObject", field="objectIds") for gid in object_ids]
        row, account = await customers.set_customer_user_objects(
            info.context.viewer, client_address(info), user_id, ids
        )
        return CustomerUser.from_rows(row, account)

    @mutation(
        policy=PORTAL_ADMINS,
        description="Replace the employees responsible for an object (active employees, at most 50).",
    )
    async def set_object_responsibles(
        self,
        object_id: Annotated[strawberry.ID, strawberry.argument(description="The object's ID.")],
        employee_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="All the responsible employees from now on.")
        ],
    ) -> SiteObject:
        pk = parse_id(object_id, "SiteObject", field="objectId")
        ids = [parse_id(gid, "Employee", field="employeeIds") for gid in employee_ids]
        return SiteObject.from_row(await customers.set_object_responsibles(pk, ids))

    @mutation(policy=PORTAL_ADMINS, description="Replace the ticket types enabled for a customer's users.")
    async def set_customer_ticket_types(
        self,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer's ID.")],
        ticket_type_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="All the ticket types their users may use from now on (no absence types)."),
        ],
    ) -> Customer:
        pk = parse_id(customer_id, "Customer", field="customerId")
        ids = [parse_id(gid, "TicketType", field="ticketTypeIds") for gid in ticket_type_ids]
        return Customer.from_row(await customers.set_customer_ticket_types(pk, ids))


# The next two configure a customer's documents and evaluation; `Mutation` merges them after the
# ticket mutations (schema/schema.py), where the SDL has always listed them.


@strawberry.type
class DocumentRuleMutations:
    @mutation(
        policy=PORTAL_ADMINS,
        description="Replace the rules that publish a customer's attachments as documents on its objects.",
    )
    async def set_customer_document_rules(
        self,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer's ID.")],
        rules: Annotated[
            list[DocumentRuleInput],
            strawberry.argument(
                description="All the rules from now on, at most one per ticket type; empty publishes nothing."
            ),
        ],
    ) -> Customer:
        pk = parse_id(customer_id, "Customer", field="customerId")
        return Customer.from_row(await documents.set_customer_document_rules(pk, decoded_list(rules, "rules")))


@strawberry.type
class EvaluationSettingsMutations:
    @mutation(
        policy=PORTAL_ADMINS,
        description="Switch the ticket evaluation on or off for a customer's users and set its "
        "group size (1–365 days).",
    )
    async def set_customer_ticket_evaluation(
        self,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer's ID.")],
        enabled: Annotated[bool, strawberry.argument(description="Whether its users see the evaluation.")],
        group_size_days: Annotated[
            int, strawberry.argument(description="How many whole days one group spans, 1 to 365.")
        ],
    ) -> Customer:
        pk = parse_id(customer_id, "Customer", field="customerId")
        return Customer.from_row(await evaluations.set_customer_ticket_evaluation(pk, enabled, group_size_days))
