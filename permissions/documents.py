"""Row scoping for documents: the attachments a customer publishes on its objects.

A document is an attachment of a ticket on an object the viewer may see,
whose ticket type has a document rule for the object's customer and whose
content type the rule names (or the rule names none). Absence requests
never count. Seeing a document says nothing about seeing its ticket: that
stays with `visible_tickets`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.documents import DocumentRule
from models.tickets import Attachment
from permissions.customers import visible_objects
from permissions.viewer import Viewer


def content_type_condition(patterns: list[str]) -> Q:
    """Exact types and `type/*` wildcards; no patterns means every content type."""
    if not patterns:
        return Q()
    exact = [p for p in patterns if not p.endswith("/*")]
    parts = [Q(content_type__in=exact)] if exact else []
    parts += [Q(content_type__startswith=p[:-1]) for p in patterns if p.endswith("/*")]
    return Q(*parts, join_type="OR")


async def visible_documents(viewer: Viewer, object_ids: Iterable[int]) -> QuerySet[Attachment]:
    """The published attachments on those of `object_ids` the viewer may see (two queries to build)."""
    objects = await visible_objects(viewer).filter(id__in=set(object_ids)).values("id", "customer_id")
    by_customer: dict[int, list[int]] = defaultdict(list)
    for row in objects:
        by_customer[row["customer_id"]].append(row["id"])
    rules = await DocumentRule.filter(customer_id__in=list(by_customer),
                                      ticket_type__is_absence_request=False)
    published = [Q(Q(ticket__object_id__in=by_customer[rule.customer_id],
                     ticket__ticket_type_id=rule.ticket_type_id),
                   content_type_condition(list(rule.content_types)))
                 for rule in rules]
    if not published:
        return Attachment.filter(id__in=[])
    return Attachment.filter(Q(*published, join_type="OR"), ticket__ticket_type__is_absence_request=False)
