"""Every model field is classified as personal (handled by export and erasure) or not personal.

A new field on any model fails here until it is added to resolvers/personal_data/classification.py,
and a personal one must name where the export puts it and what erasure does with it.
"""

from __future__ import annotations

import re

from tortoise import Tortoise

from resolvers.personal_data.classification import NOT_PERSONAL, PERSONAL, classified
from resolvers.personal_data.document import __doc__ as DOCUMENT_FORMAT


def model_fields() -> set[str]:
    """Each "Model.field": every column (foreign keys by their `_id`) and many-to-many field of every model."""
    found = set()
    for name, model in Tortoise.apps["models"].items():
        for field in [*model._meta.fields_db_projection, *model._meta.m2m_fields]:
            found.add(f"{name}.{field}")
    return found


def test_every_model_field_is_classified(settings):
    fields = model_fields()
    unclassified = sorted(fields - set(classified()))
    assert not unclassified, (
        "classify these fields in resolvers/personal_data/classification.py (personal: how export and "
        f"erasure handle them; or not personal): {unclassified}"
    )
    stale = sorted(set(classified()) - fields)
    assert not stale, f"these classified fields no longer exist: {stale}"


def test_no_field_is_both_personal_and_not():
    not_personal = {f"{model}.{name}" for model, names in NOT_PERSONAL.items() for name in names.split()}
    assert not set(PERSONAL) & not_personal


def test_each_personal_field_names_its_export_key_and_its_erasure():
    # The person.json keys documented with the format (resolvers/personal_data/document.py).
    keys = set(re.findall(r'"(\w+)"', DOCUMENT_FORMAT or "")) | set(re.findall(r"\b(\w+)\b", DOCUMENT_FORMAT or ""))
    for field, (export, erasure) in PERSONAL.items():
        assert erasure.strip(), field
        if export.startswith("not exported:"):
            assert len(export) > len("not exported: "), field
            continue
        top = re.split(r"[.\[ ]", export, maxsplit=1)[0]
        assert top in keys, f"{field}: {top!r} is no documented person.json key"
