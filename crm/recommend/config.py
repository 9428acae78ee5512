"""The knobs of the recommender (settings RECOMMEND_*), read once per run."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RecommendConfig:
    lookback_days: int  # orders older than this are not used
    recent_days: int  # products bought this recently are left out, unless due again
    min_support: int  # a pair counts when at least this many customers bought both
    neighbours: int  # nearest neighbours kept per product
    popular_depth: int  # bestsellers kept per city (and overall) to fill short lists
    top: int  # picks stored per customer
    chunk_size: int  # customer ids per DELETE + INSERT

    @classmethod
    def from_settings(cls, **overrides) -> "RecommendConfig":
        values = {
            "lookback_days": settings.RECOMMEND_LOOKBACK_DAYS,
            "recent_days": settings.RECOMMEND_RECENT_DAYS,
            "min_support": settings.RECOMMEND_MIN_SUPPORT,
            "neighbours": settings.RECOMMEND_NEIGHBOURS,
            "popular_depth": 20,
            "top": 10,
            "chunk_size": settings.RECOMMEND_CHUNK_SIZE,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
