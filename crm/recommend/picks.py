"""One statement ranks the picks of a range of customer ids, from the training tables.

Candidates, best first (`priority`), each customer's product kept once at its best priority:
  0 `due`      a replenishable product they bought whose interval has passed since they last bought it
               (score: interval / days since, 1.0 when just due);
  1 `together` the neighbours of the products they bought (sum of the cosine scores), minus what they
               bought in the last RECOMMEND_RECENT_DAYS;
  2 `popular`  their city's bestsellers they have not bought recently (score: share of the city's buyers);
  3 `popular`  then the overall bestsellers, the same way (training.py completes each city's list with them).
Then `row_number()` over (priority, score, product id) and the top N per customer. Customers with N
candidates of their own (`own`: due and together) skip the bestsellers, which cannot reach their list.
"""

from crm.models import Recommendation

DUE, TOGETHER, POPULAR = (
    Recommendation.Reason.DUE_AGAIN.value, Recommendation.Reason.BOUGHT_TOGETHER.value, Recommendation.Reason.POPULAR.value,
)
COLUMNS = "customer_id, product_id, rank, score, reason, computed_at"


def ranked_sql(*, only: str = "") -> str:
    """SELECT of the ranked picks (columns as COLUMNS) for customer ids in [%(lo)s, %(hi)s).

    `only` is an extra condition on `c` (the customer), e.g. membership of an evaluation table.
    Parameters by name: lo, hi, recent, top, computed_at."""
    not_recent = """NOT EXISTS (
                SELECT 1 FROM rec_basket mine
                WHERE mine.customer_id = scope.customer_id AND mine.product_id = {product}
                  AND mine.days_ago < %(recent)s)"""  # nosec B608 - constant SQL; values are parameters
    scope = (
        "(SELECT c.id AS customer_id, c.city FROM crm_customer c"
        f" WHERE c.id >= %(lo)s AND c.id < %(hi)s {only}"  # nosec B608 - constant SQL; values are parameters
        # An erased customer is no one to recommend to (crm.privacy.crm_erase deletes their picks too).
        " AND NOT EXISTS (SELECT 1 FROM crm_erasureevent erased WHERE erased.customer_id = c.id))"
    )
    return f"""
    WITH own AS (
        SELECT b.customer_id AS customer_id, b.product_id AS product_id,
               CAST(p.replenishment_days AS FLOAT) / b.days_ago AS score, '{DUE}' AS reason, 0 AS priority
        FROM {scope} scope
        JOIN rec_basket b ON b.customer_id = scope.customer_id AND b.customer_id >= %(lo)s AND b.customer_id < %(hi)s
        JOIN crm_product p ON p.id = b.product_id
        WHERE p.is_active AND p.replenishment_days IS NOT NULL AND p.replenishment_days > 0
          AND b.days_ago >= p.replenishment_days
        UNION ALL
        SELECT b.customer_id, s.neighbour_id, SUM(s.score), '{TOGETHER}', 1
        FROM {scope} scope
        JOIN rec_basket b ON b.customer_id = scope.customer_id AND b.customer_id >= %(lo)s AND b.customer_id < %(hi)s
        JOIN rec_similar s ON s.product_id = b.product_id
        WHERE {not_recent.format(product="s.neighbour_id")}
        GROUP BY b.customer_id, s.neighbour_id
    ), own_enough AS (
        -- Customers with a full list of their own need no bestsellers: most of the candidates are skipped.
        SELECT customer_id FROM own GROUP BY customer_id HAVING COUNT(DISTINCT product_id) >= %(top)s
    )
    SELECT customer_id, product_id, position AS rank, score, reason, %(computed_at)s AS computed_at FROM (
        SELECT customer_id, product_id, score, reason,
               ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY priority, score DESC, product_id) AS position
        FROM (
            SELECT customer_id, product_id, score, reason, priority,
                   ROW_NUMBER() OVER (PARTITION BY customer_id, product_id ORDER BY priority, score DESC) AS copy
            FROM (
                SELECT customer_id, product_id, score, reason, priority FROM own
                UNION ALL
                SELECT scope.customer_id, pc.product_id, pc.score, '{POPULAR}', pc.priority
                FROM {scope} scope
                JOIN rec_popular_city pc ON pc.city = scope.city
                WHERE {not_recent.format(product="pc.product_id")}
                  AND NOT EXISTS (SELECT 1 FROM own_enough e WHERE e.customer_id = scope.customer_id)
            ) candidates
        ) distinct_candidates
        WHERE copy = 1
    ) ranked
    WHERE position <= %(top)s
    """  # nosec B608 - constant SQL; values are parameters


def chunk_params(lo: int, hi: int, config, computed_at) -> dict:
    return {"lo": lo, "hi": hi, "recent": config.recent_days, "top": config.top, "computed_at": computed_at}
