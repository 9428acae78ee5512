"""What the picks are ranked from: temporary tables built from the counted orders before "as of".

The tables live in the database session (CREATE TEMP TABLE), so every chunk of a refresh reads
them without recomputing, nothing is held in Python, and two sessions never see each other's.
`trained(cursor, as_of, config)` builds them and drops them when the block ends.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection

from crm.recommend.config import RecommendConfig

TABLES = ("rec_basket", "rec_product", "rec_pair", "rec_similar", "rec_popular_city", "rec_popular_all")


def days_ago_sql(column: str) -> str:
    """Whole days from `column` to the moment given as the statement's parameter (the one vendor difference)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM (CAST(%s AS timestamptz) - {column})) / 86400) AS integer)"
    return f"CAST(julianday(%s) - julianday({column}) AS INTEGER)"


def db_moment(moment: datetime):
    """A datetime as the backend compares it with a stored one (a naive UTC string on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


def drop_tables(cursor) -> None:
    for table in TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


@contextmanager
def trained(cursor, as_of: datetime, config: RecommendConfig):
    """Build the training tables from counted orders in [as_of - lookback, as_of); drop them afterwards."""
    drop_tables(cursor)
    postgres = connection.vendor == "postgresql"
    try:
        if postgres:  # the pair counts and the per-chunk rankings hash and sort in memory
            cursor.execute("SET work_mem = '128MB'")
        build(cursor, as_of, config)
        yield
    finally:
        drop_tables(cursor)
        if postgres:
            cursor.execute("RESET work_mem")


def build(cursor, as_of: datetime, config: RecommendConfig) -> None:
    now, since = db_moment(as_of), db_moment(as_of - timedelta(days=config.lookback_days))
    # Each customer's distinct products in the window, with how many days ago they last bought each.
    cursor.execute(
        f"""
        CREATE TEMP TABLE rec_basket AS
        SELECT o.customer_id AS customer_id, l.product_id AS product_id,
               {days_ago_sql("MAX(o.placed_at)")} AS days_ago
        FROM crm_order o JOIN crm_orderline l ON l.order_id = o.id
        WHERE o.is_counted AND l.product_id IS NOT NULL AND o.placed_at >= %s AND o.placed_at < %s
        GROUP BY o.customer_id, l.product_id
        """,  # nosec B608 - constant SQL; values are parameters
        [now, since, now],
    )
    cursor.execute("CREATE INDEX rec_basket_customer ON rec_basket (customer_id, product_id)")
    cursor.execute("CREATE INDEX rec_basket_product ON rec_basket (product_id, customer_id)")
    _analyze(cursor, "rec_basket")
    cursor.execute(
        "CREATE TEMP TABLE rec_product AS SELECT product_id, COUNT(*) AS buyers FROM rec_basket GROUP BY product_id"
    )
    # Pairs counted once (a < b) over customers, then mirrored: half the work of the full self-join.
    cursor.execute(
        """
        CREATE TEMP TABLE rec_pair AS
        SELECT a.product_id AS a_id, b.product_id AS b_id, COUNT(*) AS together
        FROM rec_basket a JOIN rec_basket b ON b.customer_id = a.customer_id AND b.product_id > a.product_id
        GROUP BY a.product_id, b.product_id
        HAVING COUNT(*) >= %s
        """,
        [config.min_support],
    )
    # Cosine over customers: a pair bought by everyone because both are bestsellers scores no higher
    # than a pair bought by few who buy little else; only neighbours on sale are kept.
    cursor.execute(
        """
        CREATE TEMP TABLE rec_similar AS
        SELECT product_id, neighbour_id, score FROM (
            SELECT pairs.product_id, pairs.neighbour_id,
                   pairs.together / SQRT(CAST(pa.buyers AS FLOAT) * pb.buyers) AS score,
                   ROW_NUMBER() OVER (
                       PARTITION BY pairs.product_id
                       ORDER BY pairs.together / SQRT(CAST(pa.buyers AS FLOAT) * pb.buyers) DESC, pairs.neighbour_id
                   ) AS position
            FROM (
                SELECT a_id AS product_id, b_id AS neighbour_id, together FROM rec_pair
                UNION ALL
                SELECT b_id, a_id, together FROM rec_pair
            ) pairs
            JOIN rec_product pa ON pa.product_id = pairs.product_id
            JOIN rec_product pb ON pb.product_id = pairs.neighbour_id
            JOIN crm_product p ON p.id = pairs.neighbour_id AND p.is_active
        ) ranked
        WHERE position <= %s
        """,
        [config.neighbours],
    )
    cursor.execute("CREATE INDEX rec_similar_product ON rec_similar (product_id)")
    # Bestsellers by buyers in the window, on sale: overall, then each city's list (every city a customer
    # has, the blank one included) completed with the overall ones, so a customer reads one list.
    cursor.execute(
        """
        CREATE TEMP TABLE rec_popular_all AS
        SELECT product_id, score, position FROM (
            SELECT r.product_id AS product_id,
                   r.buyers * 1.0 / (SELECT COUNT(DISTINCT customer_id) FROM rec_basket) AS score,
                   ROW_NUMBER() OVER (ORDER BY r.buyers DESC, r.product_id) AS position
            FROM rec_product r JOIN crm_product p ON p.id = r.product_id AND p.is_active
        ) ranked
        WHERE position <= %s
        """,
        [max(config.popular_depth, config.top) + 100],
    )
    cursor.execute(
        """
        CREATE TEMP TABLE rec_popular_city AS
        SELECT city, product_id, score, 2 AS priority FROM (
            SELECT c.city AS city, b.product_id AS product_id,
                   COUNT(*) * 1.0 / MAX(cities.buyers) AS score,
                   ROW_NUMBER() OVER (PARTITION BY c.city ORDER BY COUNT(*) DESC, b.product_id) AS position
            FROM rec_basket b
            JOIN crm_customer c ON c.id = b.customer_id
            JOIN crm_product p ON p.id = b.product_id AND p.is_active
            JOIN (
                SELECT c2.city AS city, COUNT(DISTINCT b2.customer_id) AS buyers
                FROM rec_basket b2 JOIN crm_customer c2 ON c2.id = b2.customer_id
                WHERE c2.city <> '' GROUP BY c2.city
            ) cities ON cities.city = c.city
            WHERE c.city <> ''
            GROUP BY c.city, b.product_id
        ) city_ranked
        WHERE position <= %s
        """,
        [config.popular_depth],
    )
    cursor.execute(
        """
        INSERT INTO rec_popular_city (city, product_id, score, priority)
        SELECT city, product_id, score, 3 FROM (
            SELECT every_city.city AS city, pa.product_id AS product_id, pa.score AS score,
                   ROW_NUMBER() OVER (PARTITION BY every_city.city ORDER BY pa.position)
                   + (SELECT COUNT(*) FROM rec_popular_city own WHERE own.city = every_city.city) AS position
            FROM (SELECT DISTINCT city FROM crm_customer) every_city CROSS JOIN rec_popular_all pa
            WHERE NOT EXISTS (SELECT 1 FROM rec_popular_city own
                              WHERE own.city = every_city.city AND own.product_id = pa.product_id)
        ) completed
        WHERE position <= %s
        """,
        [config.popular_depth],
    )
    cursor.execute("CREATE INDEX rec_popular_city_city ON rec_popular_city (city)")
    for table in TABLES[1:]:
        _analyze(cursor, table)


def _analyze(cursor, table: str) -> None:
    # Temporary tables get no statistics from autovacuum: without them the planner guesses badly.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")
