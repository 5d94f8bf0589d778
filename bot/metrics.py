"""Prometheus metrics, in a registry of the app's own (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "studybot_events_total",
            "Platform events handled",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "studybot_interaction_errors_total",
            "Interactions that failed unexpectedly (the member got an apology)",
            ["platform", "kind"],
            registry=r,
        )
        self.duplicates = Counter(
            "studybot_duplicate_deliveries_total",
            "Redelivered events absorbed",
            ["platform"],
            registry=r,
        )
        self.posts = Counter(
            "studybot_posts_total", "Daily posts by outcome", ["outcome"], registry=r
        )
        self.ack_latency = Histogram(
            "studybot_command_ack_seconds",
            "Time from a command's arrival to its ack",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tick_lag = Gauge(
            "studybot_scheduler_tick_lag_seconds",
            "How late the last run of a job started",
            ["job"],
            registry=r,
        )
        self.followup_backlog = Gauge(
            "studybot_followups_due", "Cards due for a follow-up, not yet sent", registry=r
        )
        self.job_item_errors = Counter(
            "studybot_job_item_errors_total",
            "Items of a periodic job (a member, a channel, a post) that failed on their own",
            ["job"],
            registry=r,
        )
        self.table_rows = Gauge(
            "studybot_table_rows", "Rows per database table", ["table"], registry=r
        )
        self.store_write = Histogram(
            "studybot_store_write_seconds",
            "Write transaction latency",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
