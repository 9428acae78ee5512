"""The key behind a request's prefix, remembered in the web process for API_KEY_CACHE_SECONDS (issue 17: the
look-up was a third of a ledger page's time, a round trip on every call of a till).

Every request still checks the key cheaply: the secret against the stored hash, expiry against the clock, and
a generation kept in Django's cache (a cache read, no SQL) that any change to a key or a partner replaces
(saved, deleted, revoked in bulk: `api_keys_forget`). A remembered key of another generation is read again. So a
revoked key, or one of a deactivated partner, stops working at once in every process when the cache is shared
(CACHE_URL=redis://...); with the per-process default (locmem://) at once in the process that made the change and
within API_KEY_CACHE_SECONDS in the others. Unknown prefixes are never remembered: a new key works at once."""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from api.models import ApiKey, Partner

GENERATION_CACHE_KEY = "api:keys:generation"
REMEMBERED_MAX = 1000  # keys a process remembers at once; beyond, it starts again

_remembered: dict[str, tuple[ApiKey, object, float]] = {}


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix and its partner, or None."""
    ttl = settings.API_KEY_CACHE_SECONDS
    if ttl <= 0:
        return _key_load(prefix)
    generation = cache.get(GENERATION_CACHE_KEY)
    now = time.monotonic()
    remembered = _remembered.get(prefix)
    if remembered is not None and remembered[1] == generation and now - remembered[2] < ttl:
        return remembered[0]
    key = _key_load(prefix)
    if key is None:
        _remembered.pop(prefix, None)
        return None
    if len(_remembered) >= REMEMBERED_MAX:
        _remembered.clear()
    _remembered[prefix] = (key, generation, now)
    return key


def api_keys_forget(**kwargs) -> None:
    """Every process reads its keys again (a signal receiver, and called after bulk updates of keys)."""
    _generation_new()
    # Again after the commit: a process reading between now and the commit would remember the old row.
    transaction.on_commit(_generation_new)


def connect() -> None:
    for model in (ApiKey, Partner):
        post_save.connect(api_keys_forget, sender=model, dispatch_uid=f"api.keys.forget.save.{model.__name__}")
        post_delete.connect(api_keys_forget, sender=model, dispatch_uid=f"api.keys.forget.delete.{model.__name__}")


def _generation_new() -> None:
    _remembered.clear()
    cache.set(GENERATION_CACHE_KEY, uuid.uuid4().hex, None)


def _key_load(prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
