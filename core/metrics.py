"""Prometheus metric families of Sitedesk (`GET /metrics`, server/metrics.py serves them).

Defined at the bottom layer so any layer can count what it does: the mail sender its delivery
failures, a subscription listener its active subscriptions (`ACTIVE_SUBSCRIPTIONS.inc()` /
`.dec()`), a webhook deliverer its outbox (`register_outbox("webhooks", measure)`).

With several worker processes (`sitedesk serve --workers N`) prometheus-client's multi-process
mode is on: `PROMETHEUS_MULTIPROC_DIR` is set before this module is imported (server/cli.py), each
process writes its values there and a scrape sums them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The families of this process (single-process mode); the scrape in multi-process mode reads the
# files of every process instead.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "sitedesk_requests",
    "GraphQL requests by operation name (bounded, see server/metrics.py) and outcome code.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "sitedesk_request_duration_seconds",
    "Time from a GraphQL request's arrival to its answer, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
SQL_STATEMENTS = Histogram(
    "sitedesk_sql_statements_per_request",
    "SQL statements one GraphQL request ran, by operation name.",
    ["operation"],
    buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
    registry=REGISTRY,
)
SQL_SECONDS = Histogram(
    "sitedesk_sql_seconds_per_request",
    "Time one GraphQL request spent waiting for SQL statements, by operation name.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)
DELIVERY_FAILURES = Counter(
    "sitedesk_delivery_failures",
    "Failed delivery attempts by channel (mail, webhooks) and whether the outbox gave up (final) or retries.",
    ["channel", "final"],
    registry=REGISTRY,
)
ACTIVE_SUBSCRIPTIONS = Gauge(
    "sitedesk_active_subscriptions",
    "GraphQL subscriptions open in this process (summed over the live processes).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
LIVE_ANSWERS = Counter(
    "sitedesk_live_answers",
    "Live changes answered to a subscriber: executed for it, or shared with one who got the same answer.",
    ["how"],
    registry=REGISTRY,
)
LOGIN_REFUSALS = Counter(
    "sitedesk_login_refusals",
    "Refused logins by reason: credentials (wrong email or password) or throttled.",
    ["reason"],
    registry=REGISTRY,
)
INBOUND_MAIL = Counter(
    "sitedesk_inbound_mail",
    "Messages the email channel received, by outcome: accepted, duplicate, bounce, or refused_<why>.",
    ["outcome"],
    registry=REGISTRY,
)

# Outbox channel name -> async function answering (rows waiting, age in seconds of the oldest).
OutboxMeasure = Callable[[], Awaitable[tuple[int, float]]]
OUTBOXES: dict[str, OutboxMeasure] = {}


def register_outbox(channel: str, measure: OutboxMeasure) -> None:
    """Report an outbox's backlog in `sitedesk_outbox_backlog` / `sitedesk_outbox_oldest_age_seconds`."""
    OUTBOXES[channel] = measure
