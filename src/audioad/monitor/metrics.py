"""The plant's state as Prometheus metrics, read from the history store at each scrape (``/metrics``).

Through ``prometheus_client`` (``pip install 'audioad[dashboard]'``), one series a source,
labelled with its machine name and the start of its model's SHA-256:

- ``audioad_last_score``: the last segment's score;
- ``audioad_threshold{kind="label"|"alert"}``: the thresholds it is compared with;
- ``audioad_alert_active``: 1 while an alert is up, else 0;
- ``audioad_state{state="normal"|"unusual"|"alarm"}``: 1 for the source's state;
- ``audioad_segments_scored_total``: segments scored, over every run;
- ``audioad_seconds_behind``: seconds since the source's last row: a watch that stopped, or
  that lags its recorder, shows here.

Examples
--------
>>> import os, tempfile
>>> from audioad.monitor.backends import open_store
>>> from audioad.monitor.store import Segment
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
>>> press = store.source_id("press3", "ab" * 32, threshold=1.0, alert_threshold=2.0)
>>> _ = store.record(press, [Segment("a.wav", 0.0, 2.0, 2.5, 1, 1, 1767225600.0, "")], [], None)
>>> text = metrics_text(store, now=1767225610.0).decode()
>>> for line in text.splitlines():
...     if line.startswith(("audioad_last_score", "audioad_seconds_behind")):
...         print(line)
audioad_last_score{model="abababababab",source="press3"} 2.5
audioad_seconds_behind{model="abababababab",source="press3"} 10.0
"""

from __future__ import annotations

import time

from .store import state_of

__all__ = ["StoreCollector", "metrics_text", "CONTENT_TYPE"]

#: The content type of :func:`metrics_text`.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_STATES = ("normal", "unusual", "alarm")


class StoreCollector:
    """A ``prometheus_client`` collector of a store's sources (see the module's description)."""

    def __init__(self, store, now=None):
        self.store, self.now = store, now

    def describe(self):
        # Registering a collector without describe() would read the store once to learn the names.
        return []

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        labels = ["source", "model"]
        last = GaugeMetricFamily("audioad_last_score", "The last segment's score.", labels=labels)
        threshold = GaugeMetricFamily(
            "audioad_threshold",
            "Thresholds: label (a segment above it is unusual) and alert.",
            labels=[*labels, "kind"],
        )
        active = GaugeMetricFamily("audioad_alert_active", "1 while an alert is up.", labels=labels)
        state = GaugeMetricFamily("audioad_state", "1 for the source's state.", labels=[*labels, "state"])
        scored = CounterMetricFamily("audioad_segments_scored", "Segments scored, over every run.", labels=labels)
        behind = GaugeMetricFamily("audioad_seconds_behind", "Seconds since the source's last row.", labels=labels)
        now = time.time() if self.now is None else self.now
        for source in self.store.sources():
            key = [source["name"], source["model"][:12]]
            if source["last_score"] is not None:
                last.add_metric(key, source["last_score"])
            for kind, column in (("label", "threshold"), ("alert", "alert_threshold")):
                if source[column] is not None:
                    threshold.add_metric([*key, kind], source[column])
            active.add_metric(key, 1.0 if source["last_alert"] else 0.0)
            for name in _STATES:
                state.add_metric([*key, name], 1.0 if state_of(source) == name else 0.0)
            scored.add_metric(key, source["segments"])
            if source["last_at"] is not None:
                behind.add_metric(key, max(0.0, now - source["last_at"]))
        yield from (last, threshold, active, state, scored, behind)


def metrics_text(store, now=None):
    """The metrics of every source in ``store``, in Prometheus' text format (bytes)."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(StoreCollector(store, now))
    return generate_latest(registry)
