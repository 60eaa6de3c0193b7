"""Default deny and type-level policies, on a small schema built for the test."""

from __future__ import annotations

from pathlib import Path

import strawberry

from execution.schema import schema_sdl
from models.accounts import AccountKind
from permissions.policy import ANYONE, EMPLOYEES
from permissions.viewer import ANONYMOUS, Viewer
from schema.context import Context
from schema.directive import enforce_policies, field, fields_without_policy, type_policy


@strawberry.type(directives=type_policy(EMPLOYEES))
class Secret:
    value: str


@strawberry.type
class Probe:
    forgotten: str = "leak"

    @field(policy=ANYONE)
    def secret(self) -> Secret:
        return Secret(value="internal")


def _run(schema: strawberry.Schema, query: str, viewer: Viewer):
    from core.settings import settings_from_env

    context = Context(viewer=viewer, settings=settings_from_env({}), request_id="t")
    return schema.execute_sync(query, context_value=context, root_value=Probe())


def test_field_without_policy_is_listed_and_refused_for_everyone():
    probe = enforce_policies(strawberry.Schema(query=Probe))
    assert fields_without_policy(probe) == ["Probe.forgotten"]
    employee = Viewer(account_id=1, kind=AccountKind.EMPLOYEE, is_system_admin=True)
    result = _run(probe, "{ forgotten }", employee)
    assert result.data is None
    assert result.errors[0].original_error.extensions["code"] == "FORBIDDEN"


def test_type_policy_guards_fields_without_their_own():
    probe = enforce_policies(strawberry.Schema(query=Probe))
    refused = _run(probe, "{ secret { value } }", ANONYMOUS)
    assert refused.errors[0].original_error.extensions["code"] == "UNAUTHENTICATED"
    customer = Viewer(account_id=2, kind=AccountKind.CUSTOMER_USER)
    refused = _run(probe, "{ secret { value } }", customer)
    assert refused.errors[0].original_error.extensions["code"] == "FORBIDDEN"
    employee = Viewer(account_id=1, kind=AccountKind.EMPLOYEE)
    assert _run(probe, "{ secret { value } }", employee).data == {"secret": {"value": "internal"}}


def test_checked_in_schema_is_what_the_code_prints():
    checked_in = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert checked_in == schema_sdl(), "run `sitedesk export-schema > schema.graphql`"
