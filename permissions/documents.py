"""Row scoping for documents: the attachments a customer publishes on its objects.

A document is an attachment of a ticket on an object the viewer may see,
whose ticket type has a document rule for the object's customer and whose
content type the rule names (or the rule names none). Absence requests
never count. Seeing a document says nothing about seeing its ticket: that
stays with `visible_tickets`.
"""

from __future__ import annotations

from tortoise.expressions import RawSQL, Subquery
from tortoise.queryset import QuerySet

from core.database import dialect
from models.tickets import Attachment
from permissions.customers import visible_objects
from permissions.viewer import Viewer

# Whether a rule publishes the attachment of the outer query (`"attachment"`):
# the rule of its object's customer for its ticket's type, naming no content
# type, its exact content type, or a `type/*` whose `type/` it starts with
# (LIKE with the prefix escaped, as Tortoise's `startswith` compares). The
# rule's JSON list is read with each database's own functions.
PUBLISHED_SQL = """EXISTS (SELECT 1 FROM "ticket" t
 JOIN "site_object" o ON o."id" = t."object_id"
 JOIN "document_rule" r ON r."customer_id" = o."customer_id" AND r."ticket_type_id" = t."ticket_type_id"
 WHERE t."id" = "attachment"."ticket_id"
 AND ({length}(r."content_types") = 0 OR EXISTS (SELECT 1 FROM {elements}
  WHERE p.value = "attachment"."content_type"
  OR (p.value LIKE '%/*' AND "attachment"."content_type" LIKE
      replace(replace(replace(substr(p.value, 1, length(p.value) - 1), '\\', '\\\\'), '%', '\\%'), '_', '\\_')
      || '%' ESCAPE '\\'))))"""

JSON_FUNCTIONS = {
    "sqlite": {"length": "json_array_length", "elements": 'json_each(r."content_types") p'},
    "postgres": {
        "length": "jsonb_array_length",
        "elements": 'jsonb_array_elements_text(r."content_types") AS p(value)',
    },
}


def visible_documents(viewer: Viewer) -> QuerySet[Attachment]:
    """The published attachments on the objects the viewer may see."""
    published = RawSQL(PUBLISHED_SQL.format(**JSON_FUNCTIONS[dialect()]))
    return (
        Attachment.filter(
            ticket__object_id__in=Subquery(visible_objects(viewer).values("id")),
            ticket__ticket_type__is_absence_request=False,
        )
        .annotate(published=published)
        .filter(published=True)
    )
