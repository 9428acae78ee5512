"""How good the picks are: train before a cutoff, compare with what customers bought next.

The picks are ranked exactly as the refresh ranks them (picks.ranked_sql), from orders before the
cutoff only, into a temporary table: the stored recommendations are never touched.

Definitions (also in the command's help and the README):
- evaluated customers: those with a counted order before the cutoff and a counted order with at least
  one catalogue product in [cutoff, cutoff + days);
- bought: the distinct products of a customer's counted orders in that window;
- hits: how many of the customer's top k picks they bought;
- hit rate: share of evaluated customers with at least one hit;
- precision: hits / k, averaged over evaluated customers;
- recall: hits / products bought, averaged over evaluated customers;
- baseline: the k most bought products (by buyers, in the same training window, on sale) the customer
  had not bought in that window, scored the same way.
"""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from crm.recommend import picks, training
from crm.recommend.config import RecommendConfig

EVAL_TABLES = ("rec_eval_customer", "rec_eval_bought", "rec_eval_pick", "rec_eval_baseline")
KEYS = ("cutoff", "k", "days", "customers", "hit_rate", "precision", "recall",
        "baseline_hit_rate", "baseline_precision", "baseline_recall")


def recommendations_evaluate(*, cutoff: date, k: int = 5, days: int = 90, detail: bool = False, **overrides) -> dict:
    """The metrics above as one dict with KEYS (rates rounded to 4 places; None with no customer).

    With `detail`, also `hits_by_reason` (hits of the top k per reason) and `hit_rate_without_due` (the hit
    rate counting only the picks that are not products bought before), to show where the hits come from."""
    if k < 1 or days < 1:
        raise ValueError("k and days must be at least 1")
    config = replace(RecommendConfig.from_settings(**overrides), top=k)
    start = timezone.make_aware(datetime.combine(cutoff, time.min), timezone.get_current_timezone())
    end = start + timedelta(days=days)
    # Only temporary tables are written (and dropped on the way out): the stored picks stay as they are.
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            _drop(cursor)
            with training.trained(cursor, start, config):
                _window(cursor, start, end)
                _picks(cursor, config, start)
                _baseline(cursor, k)
                figures = {**_score(cursor, "rec_eval_pick", k), **{
                    f"baseline_{name}": value for name, value in _score(cursor, "rec_eval_baseline", k).items()
                    if name != "customers"
                }}
                extra = _detail(cursor, k) if detail else {}
        finally:
            _drop(cursor)
    return {"cutoff": cutoff.isoformat(), "k": k, "days": days, **{key: figures[key] for key in KEYS[3:]}, **extra}


def _drop(cursor) -> None:
    for table in EVAL_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _window(cursor, start: datetime, end: datetime) -> None:
    before, after = training.db_moment(start), training.db_moment(end)
    cursor.execute(
        """
        CREATE TEMP TABLE rec_eval_bought AS
        SELECT DISTINCT o.customer_id AS customer_id, l.product_id AS product_id
        FROM crm_order o JOIN crm_orderline l ON l.order_id = o.id
        WHERE o.is_counted AND l.product_id IS NOT NULL AND o.placed_at >= %s AND o.placed_at < %s
        """,
        [before, after],
    )
    cursor.execute("CREATE INDEX rec_eval_bought_customer ON rec_eval_bought (customer_id, product_id)")
    cursor.execute(
        """
        CREATE TEMP TABLE rec_eval_customer AS
        SELECT DISTINCT w.customer_id AS customer_id FROM rec_eval_bought w
        WHERE EXISTS (SELECT 1 FROM crm_order o WHERE o.customer_id = w.customer_id AND o.is_counted
                      AND o.placed_at < %s)
        """,
        [before],
    )
    cursor.execute("CREATE UNIQUE INDEX rec_eval_customer_id ON rec_eval_customer (customer_id)")


def _picks(cursor, config: RecommendConfig, start: datetime) -> None:
    cursor.execute(
        "CREATE TEMP TABLE rec_eval_pick AS SELECT customer_id, product_id, rank, reason FROM crm_recommendation "
        "WHERE 1 = 0"
    )
    select = picks.ranked_sql(only="AND c.id IN (SELECT customer_id FROM rec_eval_customer)")
    cursor.execute("SELECT MIN(customer_id), MAX(customer_id) FROM rec_eval_customer")
    low, high = cursor.fetchone()
    if low is None:
        return
    for lo in range(low, high + 1, config.chunk_size):
        hi = min(lo + config.chunk_size, high + 1)
        cursor.execute(
            f"INSERT INTO rec_eval_pick (customer_id, product_id, rank, reason) "
            f"SELECT customer_id, product_id, rank, reason FROM ({select}) p",  # nosec B608 - constant SQL; values are parameters
            picks.chunk_params(lo, hi, config, training.db_moment(start)),
        )


def _baseline(cursor, k: int) -> None:
    cursor.execute(
        """
        CREATE TEMP TABLE rec_eval_baseline AS
        SELECT customer_id, product_id, rank FROM (
            SELECT e.customer_id AS customer_id, pa.product_id AS product_id,
                   ROW_NUMBER() OVER (PARTITION BY e.customer_id ORDER BY pa.position) AS rank
            FROM rec_eval_customer e CROSS JOIN rec_popular_all pa
            WHERE NOT EXISTS (SELECT 1 FROM rec_basket b WHERE b.customer_id = e.customer_id
                              AND b.product_id = pa.product_id)
        ) ranked
        WHERE rank <= %s
        """,
        [k],
    )


def _detail(cursor, k: int) -> dict:
    cursor.execute(
        """
        SELECT p.reason, COUNT(*) FROM rec_eval_pick p
        JOIN rec_eval_bought w ON w.customer_id = p.customer_id AND w.product_id = p.product_id
        WHERE p.rank <= %s GROUP BY p.reason ORDER BY p.reason
        """,
        [k],
    )
    by_reason = dict(cursor.fetchall())
    cursor.execute(
        """
        SELECT AVG(CASE WHEN EXISTS (
            SELECT 1 FROM rec_eval_pick p JOIN rec_eval_bought w
                ON w.customer_id = p.customer_id AND w.product_id = p.product_id
            WHERE p.customer_id = e.customer_id AND p.rank <= %s AND p.reason <> %s
        ) THEN 1.0 ELSE 0.0 END) FROM rec_eval_customer e
        """,
        [k, picks.DUE],
    )
    value = cursor.fetchone()[0]
    return {"hits_by_reason": by_reason, "hit_rate_without_due": None if value is None else round(float(value), 4)}


def _score(cursor, table: str, k: int) -> dict:
    cursor.execute(
        f"""
        SELECT COUNT(*),
               AVG(CASE WHEN hits > 0 THEN 1.0 ELSE 0.0 END),
               AVG(hits * 1.0 / %s),
               AVG(hits * 1.0 / bought)
        FROM (
            SELECT e.customer_id,
                   (SELECT COUNT(*) FROM {table} p JOIN rec_eval_bought w
                        ON w.customer_id = p.customer_id AND w.product_id = p.product_id
                    WHERE p.customer_id = e.customer_id AND p.rank <= %s) AS hits,
                   (SELECT COUNT(*) FROM rec_eval_bought w WHERE w.customer_id = e.customer_id) AS bought
            FROM rec_eval_customer e
        ) per_customer
        """,  # nosec B608 - constant SQL; values are parameters
        [k, k],
    )
    customers, hit_rate, precision, recall = cursor.fetchone()

    def rounded(value):
        return None if value is None else round(float(value), 4)

    return {"customers": customers, "hit_rate": rounded(hit_rate), "precision": rounded(precision),
            "recall": rounded(recall)}
