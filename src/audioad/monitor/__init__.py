"""A plant's monitoring history: the store its watches write into, the dashboard that shows it, its metrics.

- :mod:`~audioad.monitor.store`: the store's interface, its schema and migrations.
- :mod:`~audioad.monitor.backends`: :func:`~audioad.monitor.backends.open_store`, the store a URL or path names.
- :mod:`~audioad.monitor.sqlite_store` and :mod:`~audioad.monitor.postgres_store`: one file, or a server.
- :mod:`~audioad.monitor.recorder`: one watch's rows, alerts and state, committed together.
- :mod:`~audioad.monitor.export`: the history as CSV, and a summary.
- :mod:`~audioad.monitor.media`: an alert's sound, spectrogram and explanation, cut from its recording.
- :mod:`~audioad.monitor.metrics`: Prometheus metrics, read from the store at each scrape.
- :mod:`~audioad.monitor.dashboard`: the live page, on the standard library's HTTP server.
"""
