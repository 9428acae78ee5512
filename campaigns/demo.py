"""campaigns' step of `seed_demo`: a few segments marketers would build (analytics' step then
scores the customers and computes the segments' retention snapshots)."""

from campaigns.segments import segment_save

SEGMENTS = [
    ("tehran", "Customers in Tehran", {"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}),
    ("persian-speakers", "Persian speakers", {"all": [{"field": "language", "op": "eq", "value": "fa"}]}),
    ("at-risk", "At risk", {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "at_risk"}]}),
    ("big-spenders", "Big spenders", {"all": [{"field": "total_spent", "op": "gte", "value": 300}]}),
    ("lapsed-coffee", "Lapsed coffee lovers", {"all": [
        {"field": "purchased_category_within_days", "op": "eq", "value": {"category": "coffee", "days": 365}},
        {"field": "days_since_last_order", "op": "gte", "value": 60}]}),
    ("gold-members", "Gold and Platinum members", {"all": [{"field": "tier", "op": "in", "value": ["Gold", "Platinum"]}]}),
]


def seed(*, rng, customers, now, progress=None) -> dict:
    for slug, name, rules in SEGMENTS:
        segment_save(slug=slug, name=name, rules=rules, description="Demo segment")
    return {"segments": len(SEGMENTS)}
