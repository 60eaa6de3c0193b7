"""Every type, field, argument, input field and enum value is described for partners (issue 15)."""

from __future__ import annotations

from graphql import build_schema

from execution.schema import schema
from tools.schema_descriptions import missing


def test_the_schema_leaves_nothing_undescribed():
    assert list(missing(schema._schema)) == []


def test_a_policy_line_alone_is_no_description():
    sdl = '''
    """Read."""
    type Query {
      """Allowed for: any signed-in viewer."""
      a: Int
      """What b is.\n\nAllowed for: employees."""
      b(x: Int): Int
    }
    """A colour."""
    enum Colour { RED """Green.""" GREEN }
    input Filter { """Only these.""" ids: [ID!] colour: Colour }
    '''
    assert list(missing(build_schema(sdl))) == [
        ("enum value", "Colour.RED"),
        ("type", "Filter"),
        ("input field", "Filter.colour"),
        ("field", "Query.a"),
        ("argument", "Query.b(x:)"),
    ]
