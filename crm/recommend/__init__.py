"""Personal product recommendations: what each customer is likely to buy next (issue 19).

Everything is computed set-based in SQL from counted orders (DESIGN.md), in three steps:

1. `training`: from the counted orders of the lookback window (RECOMMEND_LOOKBACK_DAYS before the
   moment "as of"), temporary tables of each customer's products (`rec_basket`), each product's
   nearest neighbours by co-purchase (`rec_similar`: cosine co(i,j) / sqrt(n_i * n_j) over customers,
   at least RECOMMEND_MIN_SUPPORT shared customers, the RECOMMEND_NEIGHBOURS best per product), and
   the bestsellers of each city and overall (`rec_popular_*`).
2. `picks`: for one range of customer ids, one INSERT ... SELECT ranks each customer's candidates with
   `row_number()`: products due again first (a replenishable product whose interval has passed since
   the customer last bought it), then the neighbours of what they bought (sum of scores), then their
   city's bestsellers, then the overall ones; what they bought in the last RECOMMEND_RECENT_DAYS is left
   out (unless due), inactive products never appear; the top RECOMMEND_TOP (10) are kept.
3. `refresh` replaces `crm.Recommendation` chunk by chunk (one DELETE + one INSERT per id range, each in
   its own transaction), and `evaluate` ranks into a temporary table instead and scores the picks
   against what customers really bought after a cutoff, beside a popularity baseline.

PostgreSQL is the target; the same statements run on SQLite (the embedded default and the tests),
with the one date difference in `training.days_ago_sql`.
"""

from crm.recommend.evaluate import recommendations_evaluate
from crm.recommend.refresh import recommendations_refresh

__all__ = ["recommendations_evaluate", "recommendations_refresh"]
