"""`Viewer.id`: the signed-in person's node id, so caches normalise `me` with the same object elsewhere."""

from __future__ import annotations

from core.ids import to_global_id
from tests.conftest import LOGIN
from tests.factories import PASSWORD


async def test_me_has_the_employees_node_id(world):
    data = await world.as_(world.staff).ok("{ me { __typename id name } }")
    assert data["me"] == {
        "__typename": "Employee",
        "id": to_global_id("Employee", world.staff.pk),
        "name": "Jonas Weber",
    }
    again = await world.as_(world.staff).ok(
        "query($id: ID!) { node(id: $id) { id ... on Employee { name } } }", {"id": data["me"]["id"]}
    )
    assert again["node"] == {"id": data["me"]["id"], "name": "Jonas Weber"}


async def test_me_has_the_customer_users_node_id(world):
    data = await world.as_(world.alice).ok("{ me { __typename id name } }")
    assert data["me"] == {
        "__typename": "CustomerUser",
        "id": to_global_id("CustomerUser", world.alice.pk),
        "name": "Alice",
    }
    again = await world.as_(world.alice).ok("query($id: ID!) { node(id: $id) { id } }", {"id": data["me"]["id"]})
    assert again["node"] == {"id": data["me"]["id"]}


async def test_the_viewer_of_a_new_session_has_its_id(world):
    data = await world.gql.ok(
        LOGIN.replace("viewer { name }", "viewer { id name }"), {"email": world.carl.email, "password": PASSWORD}
    )
    assert data["login"]["viewer"] == {"id": to_global_id("CustomerUser", world.carl.pk), "name": "Carl"}


async def test_anonymous_me_is_still_null(gql):
    assert await gql.ok("{ me { id } }") == {"me": None}
