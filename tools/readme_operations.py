"""The example operations of README.md: each ```graphql block, its operation name and the login it runs as.

Every block holds one named operation and a first line `# as: <email>` naming a
demo login of README's table (or `# as: anyone`). `tests/docs/test_readme_examples.py`
runs each against the demo data as that login; `make check-client` writes them to
`clients/generated/readme.graphql` for GraphQL Code Generator
(`python -m tools.readme_operations OUT`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import OperationDefinitionNode, parse

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)
AS = re.compile(r"^# as: (\S+)\s*$", re.MULTILINE)
LOGIN_ROW = re.compile(r"^\| (\S+@\S+) \| (\S+) \|", re.MULTILINE)
ANYONE = "anyone"


@dataclass(frozen=True)
class Example:
    name: str  # the operation's name
    login: str  # an email of the demo logins table, or "anyone"
    source: str  # the block as written


def examples(text: str | None = None) -> list[Example]:
    """The README's graphql blocks; ValueError names a block without one named operation or login."""
    text = README.read_text() if text is None else text
    found = []
    for match in BLOCK.finditer(text):
        source = match.group(1)
        operations = [d for d in parse(source).definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].name is None:
            raise ValueError(f"A README example must hold one named operation:\n{source}")
        login = AS.search(source)
        if login is None:
            raise ValueError(f"A README example must say `# as: <login>` on a line of its own:\n{source}")
        found.append(Example(operations[0].name.value, login.group(1), source))
    return found


def passwords(text: str | None = None) -> dict[str, str]:
    """email → password of README's demo logins table."""
    text = README.read_text() if text is None else text
    return dict(LOGIN_ROW.findall(text))


def main(out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(e.source for e in examples()))


if __name__ == "__main__":
    main(sys.argv[1])
