"""No product module above 600 lines: a module a newcomer has to scroll through for long is two modules.

Product modules are those of the packages pyproject.toml installs (`[tool.setuptools.packages.find]`,
so a new package counts from the day it is added) and tools/. Tests, bench/ and the migrations are not
product code; the demo's seed data is data. Anything else over the limit is split by concern (as
schema/forms/ is: types, inputs, operations). `python -m tests.test_module_size` lists the largest modules.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600
# {path: why it may be longer}; an exemption whose file is gone or short again fails too.
EXEMPT = {
    "server/demo.py": "the demo's seed data: tables of people, objects and tickets, not logic",
}
EXEMPT_DIRECTORIES = ("models/migrations/",)  # written by `tortoise makemigrations`


def product_packages(root: Path = ROOT) -> list[str]:
    """The installed packages' top-level names, and tools/."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.rstrip("*").rstrip(".") for pattern in patterns} | {"tools"})


def module_lengths(root: Path = ROOT) -> dict[str, int]:
    """Lines of every product module (exempt directories left out), by path relative to the root."""
    lengths = {}
    for package in product_packages(root):
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if not name.startswith(EXEMPT_DIRECTORIES):
                lengths[name] = len(path.read_text(encoding="utf-8").splitlines())
    return lengths


def test_no_product_module_is_longer_than_600_lines() -> None:
    too_long = {name: n for name, n in module_lengths().items() if n > MAX_LINES and name not in EXEMPT}
    assert not too_long, f"Split these by concern (at most {MAX_LINES} lines a module): {too_long}"


def test_every_exemption_is_still_needed() -> None:
    lengths = module_lengths()
    stale = [name for name in EXEMPT if lengths.get(name, 0) <= MAX_LINES]
    assert not stale, f"No longer over {MAX_LINES} lines (or gone): drop from EXEMPT: {stale}"


def test_the_product_packages_are_found() -> None:
    packages = product_packages()
    assert {"core", "models", "resolvers", "schema", "server", "tools"} <= set(packages)
    assert all((ROOT / package).is_dir() for package in packages), packages


if __name__ == "__main__":
    ranked = sorted(module_lengths().items(), key=lambda item: -item[1])
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print("\n".join(f"{n:5d}  {name}" for name, n in ranked[:count]))
