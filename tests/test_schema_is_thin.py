"""The GraphQL layer stays thin: no module under schema/ opens a transaction, writes a model, records an audit
event or queries a model class itself. Use cases (every transaction, audit write and multi-step change) are
plain async functions in resolvers/; schema/ decodes arguments, calls one of them and shapes the answer.

Read from the source (ast), so a write no test happens to execute is found too.
`python -m tests.test_schema_is_thin` lists what it finds.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("schema",)

# Transactions and the audit trail: using one of these names at all is a use case's business.
FORBIDDEN_NAMES = {
    "in_transaction": "opens a transaction",
    "atomic": "opens a transaction",
    "audited_change": "opens an audited transaction",
    "record_audit": "writes an audit event",
}
FORBIDDEN_MODULES = {
    "tortoise.transactions": "transactions",
    "tortoise.connection": "raw database connections",
}
# Methods that only write (Tortoise models, querysets, relations).
WRITE_METHODS = {
    "save",
    "create",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "update_from_dict",
    "select_for_update",
    "refresh_from_db",
}
# Also methods of dicts and sets: a write when awaited (`await qs.update(…)`, `await row.groups.add(…)`)
# or called on a model class's query chain.
AMBIGUOUS_WRITE_METHODS = {"update", "add", "remove", "clear"}
# A model class queried directly (`Account.get(…)`, `Ticket.filter(…)`): reads go through resolvers/ or
# a loader (schema/loaders.py), whose batch functions live in resolvers/.
QUERY_METHODS = {
    "all",
    "annotate",
    "count",
    "distinct",
    "exclude",
    "exists",
    "filter",
    "first",
    "get",
    "get_or_none",
    "in_bulk",
    "only",
    "order_by",
    "prefetch_related",
    "raw",
    "select_related",
    "values",
    "values_list",
}


def _model_names(tree: ast.Module) -> set[str]:
    """Names this module binds by importing them from models/ (model classes and enums alike)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "models":
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _chain_root(node: ast.expr) -> ast.expr:
    """`Account` for `Account.filter(x).first`: the start of an attribute/call chain."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return node


def findings_in(source: str, filename: str = "<source>") -> list[str]:
    """What in one module's source breaks the rule, as `file:line: what`."""
    tree = ast.parse(source, filename)
    models = _model_names(tree)
    awaited = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Await)}
    found: list[tuple[int, str]] = []

    def report(node: ast.AST, what: str) -> None:
        found.append((getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for module in modules:
                if module in FORBIDDEN_MODULES:
                    report(node, f"imports {module} ({FORBIDDEN_MODULES[module]})")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in FORBIDDEN_NAMES:
                        report(node, f"imports {alias.name} ({FORBIDDEN_NAMES[alias.name]})")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            report(node, f"uses {node.id} ({FORBIDDEN_NAMES[node.id]})")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            report(node, f"uses .{node.attr} ({FORBIDDEN_NAMES[node.attr]})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            root = _chain_root(node.func.value)
            on_model = isinstance(root, ast.Name) and root.id in models
            if method in WRITE_METHODS:
                report(node, f"calls .{method}() (writes a model)")
            elif method in AMBIGUOUS_WRITE_METHODS and (id(node) in awaited or on_model):
                report(node, f"calls .{method}() on a model or query (writes a model)")
            elif method in QUERY_METHODS and on_model and isinstance(node.func.value, ast.Name):
                report(node, f"queries {root.id}.{method}() itself (a resolver's or loader's job)")
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def findings(root: Path = ROOT) -> list[str]:
    """Every finding in the checked packages."""
    found = []
    for package in CHECKED:
        for path in sorted((root / package).rglob("*.py")):
            found.extend(findings_in(path.read_text(encoding="utf-8"), str(path.relative_to(root))))
    return found


def test_schema_opens_no_transaction_and_writes_nothing() -> None:
    found = findings()
    assert not found, "Move these into a use case in resolvers/:\n" + "\n".join(found)


BAD = [
    # What schema/accounts.py and schema/customers.py did before the use cases moved to resolvers/.
    (
        "from resolvers.audit import audited_change\n"
        "async def f(info):\n"
        "    async with audited_change():\n"
        "        pass\n",
        "audited_change",
    ),
    ("from tortoise.transactions import in_transaction\n", "tortoise.transactions"),
    ("async def f():\n    async with in_transaction():\n        pass\n", "in_transaction"),
    ("from tortoise import transactions\n@transactions.atomic()\nasync def f():\n    pass\n", ".atomic"),
    ("from resolvers import audit\nasync def f(v):\n    await audit.record_audit(v)\n", ".record_audit"),
    ("from models.accounts import Account\nasync def f(pk):\n    return await Account.get(id=pk)\n", "Account.get"),
    ("async def f(row):\n    await row.save()\n", ".save()"),
    ("async def f(model):\n    await model.create(name='x')\n", ".create()"),
    ("async def f(row):\n    await row.delete()\n", ".delete()"),
    ("from models.webhooks import Webhook\nasync def f():\n    await Webhook.bulk_create([])\n", "bulk_create"),
    (
        "from models.tickets import Ticket\nasync def f():\n    await Ticket.filter(id=1).update(title='x')\n",
        ".update()",
    ),
    ("async def f(employee, groups):\n    await employee.groups.add(*groups)\n", ".add()"),
]
GOOD = [
    "def f(data):\n    data.update({'a': 1})\n    seen = set()\n    seen.add(1)\n",
    "from models.tickets import TicketStatus\ndef f(v):\n    return TicketStatus(v)\n",
    "from resolvers import accounts\nasync def f(info):\n    return await accounts.create_employee(info)\n",
]


def test_the_check_finds_what_it_is_meant_to() -> None:
    for source, what in BAD:
        found = findings_in(source)
        assert any(what in line for line in found), (source, found)
    for source in GOOD:
        assert findings_in(source) == [], source


if __name__ == "__main__":
    lines = findings(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
    print("\n".join(lines) or "schema/ is thin")
    sys.exit(1 if lines else 0)
