"""The custom scalars as partners' tools read them: exact formats and `@specifiedBy` URLs.

Strawberry's own `Date`, `DateTime` and `Upload` definitions keep their parsing and
serialising; only the description and `specifiedByURL` change (GraphQL Code Generator
maps a scalar by name, `strictScalars` refuses one it cannot map). `build_schema` passes
`SCALAR_OVERRIDES` to the schema.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339"
ISO_8601_DATE = "https://www.iso.org/iso-8601-date-and-time-format.html"
MULTIPART_REQUEST_SPEC = "https://github.com/jaydenseric/graphql-multipart-request-spec"

DATE = dataclasses.replace(
    DateDefinition,
    description=(
        "A calendar day without time or zone: ISO 8601 calendar date in the extended format `YYYY-MM-DD` "
        '(RFC 3339 `full-date`), e.g. `"2026-03-31"`. Days are UTC days wherever a day bounds a period. '
        "Accepted from 2000-01-01 (import and filters) to 2100-12-31; other days are `BAD_USER_INPUT`."
    ),
    specified_by_url=ISO_8601_DATE,
)
DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    description=(
        "An instant: an RFC 3339 `date-time` string. Answers are always UTC with the offset written out, "
        "seconds and, when not zero, microseconds: `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, "
        'e.g. `"2026-03-31T08:15:00+00:00"`. '
        "Inputs take any offset (`Z`, `+02:00`) and are turned into UTC where they enter; an input "
        "without an offset is read as UTC."
    ),
    specified_by_url=RFC_3339,
)
UPLOAD = dataclasses.replace(
    UploadDefinition,
    description=(
        "A file sent with the request as a part of a `multipart/form-data` body, per the GraphQL "
        "multipart request spec (`operations`, `map`, then the files): the variable holds `null` in "
        "`operations` and `map` points the file part at it. Send the header `Apollo-Require-Preflight: "
        "true` with every multipart request (else `BAD_REQUEST`). Input only; at most "
        "`SITEDESK_MAX_UPLOAD_MB` (25 MB by default) per file."
    ),
    specified_by_url=MULTIPART_REQUEST_SPEC,
)

SCALAR_OVERRIDES: dict[object, Any] = {dt.date: DATE, dt.datetime: DATE_TIME, Upload: UPLOAD}
