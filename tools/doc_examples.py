"""The example operations of README.md and docs/: each ```graphql block, its operation name and login.

Every block holds one named operation and a first line `# as: <email>` naming a demo login
(README's table, repeated in docs/getting-started.md) or `# as: anyone`.
`tests/docs/test_doc_examples.py` runs each against the demo data as that login; `make check-client`
writes them to `clients/generated/operations/` for GraphQL Code Generator
(`python -m tools.doc_examples OUT`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import OperationDefinitionNode, parse

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)
AS = re.compile(r"^# as: (\S+)\s*$", re.MULTILINE)
LOGIN_ROW = re.compile(r"^\| (\S+@\S+) \| (\S+) \|", re.MULTILINE)
ANYONE = "anyone"


@dataclass(frozen=True)
class Example:
    name: str  # the operation's name
    login: str  # an email of the demo logins table, or "anyone"
    source: str  # the block as written
    page: str  # the file it stands in, relative to the repository


def documentation_pages() -> list[Path]:
    """README.md and every Markdown page of the documentation site, in a stable order."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def examples(text: str | None = None, page: str = "README.md") -> list[Example]:
    """The graphql blocks of `text` (default: every documentation page).

    ValueError names a block without one named operation or without a login line.
    """
    if text is None:
        return [
            example
            for path in documentation_pages()
            for example in examples(path.read_text(), str(path.relative_to(ROOT)))
        ]
    found = []
    for match in BLOCK.finditer(text):
        source = match.group(1)
        operations = [d for d in parse(source).definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].name is None:
            raise ValueError(f"An example in {page} must hold one named operation:\n{source}")
        login = AS.search(source)
        if login is None:
            raise ValueError(f"An example in {page} must say `# as: <login>` on a line of its own:\n{source}")
        found.append(Example(operations[0].name.value, login.group(1), source, page))
    return found


def passwords(text: str | None = None) -> dict[str, str]:
    """email → password of the demo logins table (README's, and any page repeating it).

    ValueError when two pages give one login different passwords.
    """
    texts = [text] if text is not None else [path.read_text() for path in documentation_pages()]
    found: dict[str, str] = {}
    for one in texts:
        for email, password in LOGIN_ROW.findall(one):
            if found.setdefault(email, password) != password:
                raise ValueError(f"the demo login {email} has two passwords in the documentation")
    return found


def main(out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(e.source for e in examples()))


if __name__ == "__main__":
    main(sys.argv[1])
