"""One small registry class behind every extension point of the platform, and their discovery.

Each app declares what it contributes (jobs, roles, timeline entries, privacy handlers, demo steps,
panels, ...) in ONE module, `<app>/contributions.py`, which `contributions_discover()` imports once,
the way the admin imports every `admin.py`. A lower app never imports a higher one: it offers a
registry here, in core, and the higher app fills it from its contributions module.

Tests never patch a registry's insides: `with registry.override({...}):` swaps its contents for the
block and restores them after, even when the block raises.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Generic, TypeVar

from django.utils.module_loading import autodiscover_modules

T = TypeVar("T")

CONTRIBUTIONS_MODULE = "contributions"


class AlreadyRegistered(ValueError):
    """A key was registered twice: two contributions would silently replace one another."""


class Registry(Mapping[str, T], Generic[T]):
    """Items under unique keys, in registration order (iteration yields the keys, like a dict)."""

    def __init__(self, name: str):
        self.name = name
        self._items: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {', '.join(self._items) or 'empty'}>"

    def register(self, key: str, item: T) -> T:
        """Add `item` under `key`; a key already taken raises AlreadyRegistered. Returns the item."""
        if key in self._items:
            raise AlreadyRegistered(f"{self.name}: {key!r} is already registered.")
        self._items[key] = item
        return item

    def get(self, key: str, default=None):
        return self._items.get(key, default)

    def __getitem__(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise KeyError(f"{self.name}: unknown key {key!r}; registered: {known}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    @contextmanager
    def override(self, items: Mapping[str, T] | None = None, /, **named: T):
        """For tests: the registry holds exactly `items` (and `named`) inside the block.

        `registry.override({})` empties it; `registry.override({**registry, "extra": item})` adds one;
        `registry.override({key: registry[key]})` keeps one."""
        saved = self._items
        self._items = {**(items or {}), **named}
        try:
            yield self
        finally:
            self._items = saved


@cache
def contributions_discover() -> None:
    """Import every installed app's `contributions` module, once.

    Called from CoreConfig.ready(). Django imports every app's models before it calls any ready(),
    so the contributions may import models and services of any app; running here (core is the first
    project app) means the registries are full before the other apps' ready() and before any request,
    command or test. The cache keeps a second call (a test, a reloaded app registry) from registering
    everything twice."""
    autodiscover_modules(CONTRIBUTIONS_MODULE)
