"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from core.settings import Settings
from permissions.viewer import Viewer


@dataclass
class Context:
    viewer: Viewer
    settings: Settings
    request_id: str
    request: Any = None
    client_ip: str | None = None
    # DataLoaders live here, one set per request: a loader shared between
    # requests would serve one viewer's rows to the next. Keyed by their
    # `schema.loaders.Loader` accessor, so nobody names a loader by a string.
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    # Policy answers for this request's viewer, by policy identity: a page of
    # tickets asks the same few policies hundreds of times (`schema.directive.check`).
    policy_answers: dict[Any, Any] = field(default_factory=dict)

    def loader(self, key: Hashable, factory: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """The request's loader `key` (a `schema.loaders.Loader`), created by `factory()` on first use."""
        existing = self.loaders.get(key)
        if existing is None:
            existing = self.loaders[key] = factory()
        return existing
