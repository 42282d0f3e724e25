"""Prometheus metrics. Counters and histograms are counted where things happen (a launch, an
ingested batch, an award, a delivery attempt, a request); the delivery queue is read from the
database when /metrics is scraped, so it is the same whichever process answers.

Under gunicorn (several processes) set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by
the web processes (config/gunicorn.conf.py cleans it up when a process exits); each scrape then
adds up every process's counts. Workers started with the same directory on the same machine are
counted too."""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .models import Delivery
from .models.delivery import DELIVERY_DEAD, DELIVERY_PENDING

LAUNCHES = Counter("lti_badger_launches_total", "Accepted LTI launches.", ["message_type"])
EVENTS = Counter("lti_badger_progress_events_total", "Progress events ingested, by source.", ["source"])
AWARDS = Counter("lti_badger_awards_total", "Awards created, by who decided (rule or instructor).", ["awarded_by"])
DELIVERIES = Counter("lti_badger_delivery_attempts_total", "Delivery attempts by destination and outcome.",
                     ["destination", "outcome"])
REQUEST_SECONDS = Histogram("lti_badger_request_seconds", "Time to answer an HTTP request, by endpoint.",
                            ["endpoint", "method"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


def count_events(sources: Iterable[str]) -> None:
    for source, n in Tally(sources).items():
        EVENTS.labels(source).inc(n)


class DeliveryQueueCollector(Collector):
    """Queue depth by status, pending deliveries whose last attempt failed, and the age of the
    oldest pending delivery, read at scrape time."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as s:
            depth = dict(s.execute(select(Delivery.status, func.count()).where(
                Delivery.status.in_((DELIVERY_PENDING, DELIVERY_DEAD))).group_by(Delivery.status)).all())
            failing = s.scalar(select(func.count()).where(Delivery.status == DELIVERY_PENDING,
                                                          Delivery.last_error.is_not(None)))
            oldest = s.scalar(select(func.min(Delivery.created_at)).where(Delivery.status == DELIVERY_PENDING))
        queue = GaugeMetricFamily("lti_badger_deliveries", "Deliveries not done, by status.", labels=["status"])
        for status in (DELIVERY_PENDING, DELIVERY_DEAD):
            queue.add_metric([status], depth.get(status, 0))
        yield queue
        yield GaugeMetricFamily("lti_badger_deliveries_failing",
                                "Pending deliveries whose last attempt failed.", value=failing or 0)
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
            age = max((datetime.now(timezone.utc) - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily("lti_badger_oldest_pending_delivery_seconds",
                                "Age of the oldest pending delivery (0 when none).", value=age)


def exposition(sessions: sessionmaker[Session]) -> bytes:
    """The text exposition of one scrape: this process's (or all processes') counters, then
    the queue gauges from the database."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    queue = CollectorRegistry()
    queue.register(DeliveryQueueCollector(sessions))
    return generate_latest(counted) + generate_latest(queue)
