"""Benchmark: the partner REST API under load, next to a bare Django view, on 1,000,000 customers.

    .venv/bin/python bench/bench_api.py [--quick] [--duration 15] [--connections 4] [--workers 2]
    .venv/bin/python bench/bench_api.py --database-url postgres://.../db   # any migrated database, as it is

Uses the shared data set of `bench/dataset.py` (built if missing), starts gunicorn (2 sync
workers, DEBUG off, persistent database connections, the API rate limit raised out of the way)
on a free loopback port with DJANGO_SETTINGS_MODULE=bench.api_settings, which adds bench-only
routes: bare views returning the same rows as the API's first pages with `.values()`. A partner key
with the scopes `customers:read, orders:write, coupons:redeem, club:read` and two customers of its
own (a buyer for the orders; a club member with a 10% coupon and 60 ledger rows) are created, then
`wrk` drives, each after a 3-second warm-up:

- each read against its bare view, in `--rounds` alternating rounds of `--duration` seconds (so both
  see the same machine): `GET /api/v1/customers/` (the first 50-row cursor page), `GET
  /api/v1/orders/` (50 orders with their lines) and the member's `ledger/` (50 of its 60 rows);
- `POST /api/v1/orders/` with 2 lines, a new order number and Idempotency-Key on every request;
- `POST /api/v1/coupons/validate/`;
- `GET /api/v1/customers/` again with one connection (requests one at a time): its p95 is
  the latency a single till or shop sees (issue 7: under 50 ms).

It prints requests/s, p50, p95 and p99 for each, the ratio API / bare view of each read (goal: 0.7), the p95 of each
read with `--connections` concurrent clients (issue 17: under 50 ms with 4), and checks that every
order request stored exactly one order and that the call log holds every API request (counted once gunicorn has
exited: its workers store the rows they hold as they exit). At the end it deletes what it created (the orders, the
two customers, the membership and coupon, the partner with its key and call log, and their
history rows), so the data set is left as it was.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PRODUCTION_ENV  # noqa: E402
from bench.dataset import DEFAULT_DATABASE, QUICK, ensure_dataset  # noqa: E402

LUA = Path(__file__).resolve().parent / "bench_api.lua"
SCOPES = ["customers:read", "orders:write", "coupons:redeem", "club:read"]
LEDGER_ROWS = 60  # the holder's ledger: more than a page
# The order every POST orders/ request sends; __NUMBER__ becomes a new order number each time (bench_api.lua).
ORDER_BODY = (
    '{"customer": "__CUSTOMER__", "order_number": "__NUMBER__", "placed_at": "2026-11-01T10:00:00Z", "channel": "online",'
    ' "currency": "USD", "total": "42.50", "lines": ['
    '{"sku": "BEANS-1", "product_name": "House beans", "category": "coffee", "quantity": 1, "unit_price": "30.00"},'
    ' {"sku": "CUP-1", "product_name": "Cup", "category": "cups", "quantity": 1, "unit_price": "12.50"}]}'
)
RESULT = re.compile(r"^BENCH_RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)$", re.MULTILINE)

# The environment of both processes (this one and gunicorn): production-like, quiet, no limits.
SERVER_ENV = PRODUCTION_ENV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']:,} customers")
    parser.add_argument("--database", help=f"default {DEFAULT_DATABASE} ({DEFAULT_DATABASE}_quick with --quick)")
    parser.add_argument("--database-url", help="use this (migrated) database as it is, without building a data set")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each read and its bare view (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections of the throughput runs (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk).")

    if args.database_url:
        url = args.database_url
    else:
        size = QUICK if args.quick else {"customers": args.customers, "orders_per_customer": args.orders_per_customer}
        database = args.database or (f"{DEFAULT_DATABASE}_quick" if args.quick else DEFAULT_DATABASE)
        url = ensure_dataset(**size, database=database, log=lambda line: print(line, flush=True))
    _setup_django(url)
    run_id = secrets.token_hex(4)
    world = _prepare(run_id)
    server = None
    try:
        port = _free_port()
        server = _start_gunicorn(url, port, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, server)
        run(base, world, run_id, duration=args.duration, connections=args.connections, workers=args.workers,
            rounds=args.rounds)
        _stop(server)  # the workers store the call-log rows they still hold as they exit
        _call_log_check(world)
    finally:
        if server is not None:
            _stop(server)
        _cleanup(world)


# The requests to /api/v1/ that completed (wrk's counts and the checks), and the most that can have been in flight
# when a wrk run stopped (one per connection and run): every one of them must be in the call log.
API_REQUESTS = {"completed": 0, "in_flight_at_most": 0}


def _call_log_check(world: dict) -> None:
    from api.models import ApiCall

    logged = ApiCall.objects.filter(partner=world["partner"]).count()
    completed, in_flight = API_REQUESTS["completed"], API_REQUESTS["in_flight_at_most"]
    print(f"call log: {logged:,} rows for {completed:,} completed API requests (and at most {in_flight} in flight "
          f"when a run stopped)", flush=True)
    if not completed <= logged <= completed + in_flight:
        print("WARNING: the call log does not hold every API request", flush=True)


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    for name, value in SERVER_ENV.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


# The partner, its customers and the coupon --------------------------------------------------------


def _prepare(run_id: str) -> dict:
    from decimal import Decimal

    from api import services as api_services
    from club import services as club_services
    from club.models import Coupon, Offer
    from crm.models import Customer

    partner = api_services.partner_create(name=f"bench-api {run_id}", contact="bench@bench.invalid")
    _key, secret = api_services.api_key_create(partner=partner, scopes=SCOPES, name="bench")
    buyer = api_services.partner_customer_create(
        partner=partner, first_name="Bench", last_name="Buyer", email=f"bench-buyer-{run_id}@bench.invalid",
        external_ref=f"bench-api-{run_id}-buyer",
    )
    holder = api_services.partner_customer_create(
        partner=partner, first_name="Bench", last_name="Holder", email=f"bench-holder-{run_id}@bench.invalid",
        external_ref=f"bench-api-{run_id}-holder",
    )
    member = club_services.member_enroll(customer=holder, source="api")
    coupon = club_services.coupon_issue(member=member, kind=Coupon.Kind.CAMPAIGN, discount_kind=Offer.Kind.PERCENT,
                                        value=Decimal("10"))
    for number in range(LEDGER_ROWS):
        club_services.points_adjust(member=member, points=10 + number, reason=f"Bench adjustment {number}", by=None)
    return {
        "partner": partner, "auth": f"Api-Key {secret}", "buyer": buyer, "holder": holder, "coupon": coupon.code,
        "customers_before": Customer.objects.count() - 2,
    }


def _cleanup(world: dict) -> None:
    """Delete what the run created, with everything that points to it, and their history rows."""
    from django.db import transaction

    from crm.models import Order

    with transaction.atomic():
        orders = Order.objects.filter(customer__in=[world["buyer"], world["holder"]])
        count = orders.count()
        for order in orders.iterator():
            _purge(order)
        for instance in (world["buyer"], world["holder"], world["partner"]):
            _purge(instance)
    print(f"cleanup: deleted the {count:,} orders, 2 customers, membership, coupon and partner of the run")


def _purge(instance) -> None:
    """Delete `instance` and what refers to it (PROTECT relations first), and their history rows."""
    from django.db.models import PROTECT, RESTRICT
    from django.db.models.deletion import Collector

    for relation in instance._meta.related_objects:
        if relation.on_delete in (PROTECT, RESTRICT):
            related = relation.related_model._base_manager.filter(**{relation.field.name: instance})
            for child in related.iterator():
                _purge(child)
    collector = Collector(using="default")
    collector.collect([instance])
    deleted = {model: [obj.pk for obj in instances] for model, instances in collector.data.items()}
    collector.delete()
    # After the delete: django-simple-history records the deletion itself as a history row.
    for model, pks in deleted.items():
        history = getattr(model, "history", None)
        if history is not None:
            history.model._base_manager.filter(**{f"{model._meta.pk.attname}__in": pks}).delete()


# gunicorn ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(url: str, port: int, *, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.api_settings"}
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--chdir", str(ROOT),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--timeout", "60", "--log-level", "warning",
    ]
    print(f"server: gunicorn, {workers} sync workers, http://127.0.0.1:{port}/ (bench.api_settings)", flush=True)
    return subprocess.Popen(command, env=env, start_new_session=True)


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    sys.exit("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# wrk ---------------------------------------------------------------------------------------------


def _wrk(url: str, *, mode: str, env: dict, duration: int, connections: int) -> dict:
    threads = min(2, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "--latency", "-s", str(LUA), url]
    completed = subprocess.run(command, env={**os.environ, **env, "BENCH_MODE": mode}, capture_output=True, text=True,
                               check=True)
    match = RESULT.search(completed.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
    requests, seconds, p50, p95, p99, mean, bad_status, socket_errors = match.groups()
    if "/api/v1/" in url:
        API_REQUESTS["completed"] += int(requests)
        API_REQUESTS["in_flight_at_most"] += connections
    return {"requests": int(requests), "rps": int(requests) / float(seconds), "p50": float(p50), "p95": float(p95),
            "p99": float(p99), "mean": float(mean), "bad_status": int(bad_status), "socket_errors": int(socket_errors)}


def _check(base: str, path: str, world: dict, *, method="GET", body=None, auth=True, expect=200) -> None:
    """One request before the load: the target answers what it should (a benchmark of 401s measures nothing)."""
    request = urllib.request.Request(f"{base}{path}", method=method, data=body.encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if auth:
        request.add_header("Authorization", world["auth"])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    if status != expect:
        raise RuntimeError(f"{method} {path} answered {status}, not {expect}: {content[:500]!r}")
    if path.startswith("/api/v1/"):
        API_REQUESTS["completed"] += 1


def run(base: str, world: dict, run_id: str, *, duration: int, connections: int, workers: int, rounds: int) -> None:
    from crm.models import Order

    buyer, holder = str(world["buyer"].public_id), str(world["holder"].public_id)
    api_env = {"BENCH_AUTH": world["auth"], "BENCH_RUN": run_id}
    _check(base, "/api/v1/customers/", world)
    _check(base, "/bench/bare/customers/", world, auth=False)
    _check(base, "/api/v1/coupons/validate/", world, method="POST",
           body=f'{{"code": "{world["coupon"]}", "customer": "{holder}", "order_value": "120.00"}}')
    order_body = ORDER_BODY.replace("__CUSTOMER__", buyer)
    _check(base, "/api/v1/orders/", world, method="POST", body=order_body.replace("__NUMBER__", f"BENCH-{run_id}-check"),
           expect=201)
    pairs = [
        ("customers/ (50 rows)", "/api/v1/customers/", "/bench/bare/customers/"),
        ("orders/ (50 orders and their lines)", "/api/v1/orders/", "/bench/bare/orders/"),
        (f"a member's ledger/ (50 of {LEDGER_ROWS} rows)", f"/api/v1/club/members/{holder}/ledger/",
         f"/bench/bare/ledger/{holder}/"),
    ]
    for _label, api_path, bare_path in pairs:
        _check(base, api_path, world)
        _check(base, bare_path, world, auth=False)
    writes = [
        ("POST orders/ (2 lines, Idempotency-Key)", "/api/v1/orders/", "order", {**api_env, "BENCH_ORDER_BODY": order_body}),
        ("POST coupons/validate/", "/api/v1/coupons/validate/", "validate",
         {**api_env, "BENCH_CUSTOMER": holder, "BENCH_COUPON": world["coupon"]}),
    ]
    results, ratios = {}, []
    order_requests = 0
    print(f"wrk: {connections} connections; each read against its bare view in {rounds} alternating rounds of "
          f"{duration} s (after a 3 s warm-up of each), so both see the same machine; "
          f"{world['customers_before']:,} customers in the database", flush=True)
    for label, api_path, bare_path in pairs:
        bare_env = {"BENCH_AUTH": ""}
        _wrk(base + api_path, mode="get", env=api_env, duration=3, connections=connections)
        _wrk(base + bare_path, mode="get", env=bare_env, duration=3, connections=connections)
        api_runs, bare_runs = [], []
        for _round in range(rounds):
            api_runs.append(_wrk(base + api_path, mode="get", env=api_env, duration=duration, connections=connections))
            bare_runs.append(_wrk(base + bare_path, mode="get", env=bare_env, duration=duration, connections=connections))
        api, bare = _combined(api_runs), _combined(bare_runs)
        results[f"GET {label}"], results[f"bare {label}"] = api, bare
        _print_row(f"GET {label}", api)
        _print_row("  bare view, same rows (.values())", bare)
        ratios.append((label, api, bare))
    for label, path, mode, env in writes:
        warm = _wrk(base + path, mode=mode, env={**env, "BENCH_RUN": f"{run_id}w"}, duration=3, connections=connections)
        results[label] = _wrk(base + path, mode=mode, env=env, duration=duration, connections=connections)
        if mode == "order":
            order_requests = 1 + warm["requests"] + results[label]["requests"]  # with the check's order
        _print_row(label, results[label])
    label = "GET customers/, 1 connection (latency)"
    results[label] = _wrk(base + "/api/v1/customers/", mode="get", env=api_env, duration=duration, connections=1)
    _print_row(label, results[label])

    print()
    for name, api, bare in ratios:
        print(f"{name}: API {api['rps']:.0f} req/s vs bare view {bare['rps']:.0f} req/s: ratio API / bare = "
              f"{api['rps'] / bare['rps']:.2f} in throughput (goal 0.7), {api['p50'] / bare['p50']:.2f}x the p50 latency")
    # Issue 17: p95 under 50 ms with 4 concurrent clients (the throughput runs), and one at a time.
    for name, api, _bare in ratios:
        verdict = "meets" if api["p95"] < 50 else "misses"
        print(f"{name}, {connections} concurrent clients: p95 {api['p95']:.1f} ms (median of the rounds; {verdict} the "
              f"50 ms target)")
    latency = results[label]
    verdict = "meets" if latency["p95"] < 50 else "misses"
    print(f"customers/ 50-row page, one request at a time: p95 {latency['p95']:.1f} ms ({verdict} the 50 ms target)")
    stored = Order.objects.filter(customer=world["buyer"]).count()
    failed = sum(result["bad_status"] for result in results.values())
    # wrk counts the requests that completed within the time; the ones still in flight when it stops
    # (at most one per connection and run) are stored too.
    in_flight = stored - order_requests
    print(f"orders: {order_requests:,} completed requests (check and warm-up included), {stored:,} orders stored "
          f"({in_flight} in flight at the end of a run); {failed} error statuses over all runs")
    if not 0 <= in_flight <= 2 * connections or failed:
        print("WARNING: the orders stored do not match the requests, or some requests failed", flush=True)


def _combined(runs: list[dict]) -> dict:
    """Rounds of one target: the requests over the time of all rounds, the median of their percentiles."""
    from statistics import median

    seconds = sum(run["requests"] / run["rps"] for run in runs if run["rps"])
    total = {"requests": sum(run["requests"] for run in runs)}
    total["rps"] = total["requests"] / seconds if seconds else 0.0
    for name in ("p50", "p95", "p99", "mean"):
        total[name] = median(run[name] for run in runs)
    for name in ("bad_status", "socket_errors"):
        total[name] = sum(run[name] for run in runs)
    return total


def _print_row(label: str, result: dict) -> None:
    errors = ""
    if result["bad_status"] or result["socket_errors"]:
        errors = f"  ({result['bad_status']} error statuses, {result['socket_errors']} socket errors)"
    print(f"{label:<42} {result['rps']:>8.0f} req/s  p50 {result['p50']:>7.1f} ms  p95 {result['p95']:>7.1f} ms  "
          f"p99 {result['p99']:>7.1f} ms{errors}", flush=True)


if __name__ == "__main__":
    main()
