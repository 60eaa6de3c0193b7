"""What a query selects below the field being resolved, worked out once per document.

`selection_tree(info)` is the field's selection as nested dicts of GraphQL
field names (`{"edges": {"node": {"title": {}, "object": {"name": {}}}}}`),
fragments and inline fragments merged in whatever their type condition, and
`@skip`/`@include` ignored: a superset of what can run, never less. Resolvers
use it to fetch only what is asked for (`schema.tickets.preload`); a field
named here that does not run only costs a column.

Documents come from the parser cache, so the same document brings the same
AST nodes: the tree is remembered per field node (held, so its identity
cannot be reused), in a bounded cache.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

Tree = dict[str, "Tree"]
CACHE_SIZE = 1024
_trees: OrderedDict[tuple[int, ...], tuple[tuple[FieldNode, ...], Tree]] = OrderedDict()


def selection_tree(info: Any) -> Tree:
    """The selection below the field `info` resolves (Strawberry's `Info` or the compiled path's)."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    key = tuple(map(id, nodes))
    found = _trees.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], nodes, strict=True)):
        return found[1]
    tree: Tree = {}
    for node in nodes:
        _merge(tree, node.selection_set, raw.fragments, frozenset())
    _trees[key] = (nodes, tree)
    while len(_trees) > CACHE_SIZE:
        _trees.popitem(last=False)
    return tree


def _merge(
    tree: Tree,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below = tree.setdefault(selection.name.value, {})
            _merge(below, selection.selection_set, fragments, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                _merge(tree, fragment.selection_set, fragments, visiting | {name})
        elif isinstance(selection, InlineFragmentNode):
            _merge(tree, selection.selection_set, fragments, visiting)


def at(tree: Tree, *path: str) -> Tree:
    """The part of `tree` below `path` (empty when the path is not selected)."""
    for name in path:
        tree = tree.get(name, {})
    return tree
