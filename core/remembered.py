"""A few rows every request or order reads and a manager rarely changes (webhook subscriptions, the club's
earning rules and tiers), remembered in Django's cache for some seconds and forgotten when they change.

`remembered(key, seconds, read)` answers what the cache holds under `key`, else `read()`, stored for `seconds`
(0: read every time). `forget(*keys)` drops them at once and again when the transaction commits: another process
reading between the change and its commit would otherwise remember the old rows. With a shared cache
(CACHE_URL=redis://...) a change counts everywhere from the next read; with the per-process default, in the other
processes within `seconds`."""

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


def remembered(key: str, seconds: int, read: Callable[[], T]) -> T:
    if seconds > 0:
        found = cache.get(key)
        if found is not None:
            return found
    value = read()
    if seconds > 0:
        cache.set(key, value, seconds)
    return value


def forget(*keys: str) -> None:
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
