"""Comparing two policies by whom they admit among the viewer archetypes (a pure function)."""

from __future__ import annotations

import strawberry

from permissions.policy import (
    ANYONE,
    CUSTOMER_USERS,
    EMPLOYEES,
    PORTAL_ADMINS,
    SIGNED_IN,
    SYSTEM_ADMINS,
    TEMPLATE_MANAGERS,
    VIEWER_ARCHETYPES,
    Permission,
    Role,
    admitted,
    allow,
    refused_within,
)
from schema.directive import enforce_policies, field, type_policy
from tests.schema.test_policies import narrower_fields_that_are_non_null


def test_archetypes_are_anonymous_a_customer_user_and_each_permission_subset_of_both_kinds_of_staff():
    subsets = 2 ** len(Permission)
    assert len(VIEWER_ARCHETYPES) == 2 + 2 * subsets
    assert admitted(ANYONE) == frozenset(VIEWER_ARCHETYPES)
    assert admitted(SIGNED_IN) == frozenset(VIEWER_ARCHETYPES) - {"anonymous"}
    assert admitted(CUSTOMER_USERS) == {"customer user"}
    assert len(admitted(EMPLOYEES)) == 2 * subsets
    assert len(admitted(SYSTEM_ADMINS)) == subsets
    assert len(admitted(TEMPLATE_MANAGERS)) == subsets  # employees and admins holding the permission
    assert len(admitted(PORTAL_ADMINS)) == subsets // 2


def test_a_policy_refuses_nobody_within_itself_or_a_wider_one():
    for policy in (ANYONE, SIGNED_IN, CUSTOMER_USERS, EMPLOYEES, SYSTEM_ADMINS, TEMPLATE_MANAGERS, PORTAL_ADMINS):
        assert refused_within(policy, policy) == []
        assert refused_within(ANYONE, policy) == []
    assert refused_within(SIGNED_IN, CUSTOMER_USERS) == []
    assert refused_within(EMPLOYEES, SYSTEM_ADMINS) == []
    assert refused_within(EMPLOYEES, TEMPLATE_MANAGERS) == []


def test_a_narrower_policy_names_whom_it_refuses():
    assert refused_within(EMPLOYEES, SIGNED_IN) == ["customer user"]
    assert refused_within(SIGNED_IN, ANYONE) == ["anonymous"]
    assert refused_within(CUSTOMER_USERS, SIGNED_IN) == [label for label in VIEWER_ARCHETYPES if "holding" in label]
    refused = refused_within(TEMPLATE_MANAGERS, EMPLOYEES)
    assert "employee holding nothing" in refused and "system admin holding MANAGE_ABSENCES" in refused
    assert not any("MANAGE_CHECK_TEMPLATES" in label for label in refused)
    assert refused_within(SYSTEM_ADMINS, EMPLOYEES) == [label for label in VIEWER_ARCHETYPES if "employee" in label]


def test_the_same_admission_spelled_differently_is_not_narrower():
    # "employee or system admin" admits exactly the employees; a permission every admitted viewer must hold is compared
    # as held, whatever the roles say.
    assert refused_within(allow(Role.EMPLOYEE, Role.SYSTEM_ADMIN), EMPLOYEES) == []
    assert refused_within(EMPLOYEES, allow(Role.EMPLOYEE, Role.SYSTEM_ADMIN)) == []
    assert refused_within(allow(Role.CUSTOMER_USER, Role.EMPLOYEE), SIGNED_IN) == []


@strawberry.type(directives=type_policy(SIGNED_IN))
class Card:
    name: str = "x"

    @field(policy=EMPLOYEES)
    def staff_only(self) -> str:
        return "y"

    @field(policy=EMPLOYEES)
    def staff_only_nullable(self) -> str | None:
        return "y"

    @field(policy=CUSTOMER_USERS)
    def portal_only(self) -> list[str]:
        return []


@strawberry.type
class CardQuery:
    @field(policy=SIGNED_IN)
    def card(self) -> Card:
        return Card()


def test_the_coverage_check_lists_each_non_null_field_narrower_than_its_type():
    probe = enforce_policies(strawberry.Schema(query=CardQuery))
    assert narrower_fields_that_are_non_null(probe) == [
        "Card.staffOnly (refused: customer user)",
        "Card.portalOnly (refused: employee holding nothing, employee holding MANAGE_INSIGHT and 14 more)",
    ]
