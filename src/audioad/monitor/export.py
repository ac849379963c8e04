"""The history as a CSV (``audioad history --csv``), and a few lines a machine for a person.

Examples
--------
>>> import io, os, tempfile
>>> from audioad.monitor.backends import open_store
>>> from audioad.monitor.store import Segment
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
>>> press = store.source_id("press3", "ab" * 32, threshold=1.0)
>>> _ = store.record(press, [Segment("a.wav", 0.0, 2.0, 0.5, 0, 0, 1767225600.0, "")], [], None)
>>> out = io.StringIO()
>>> write_csv(store, out, source="press3")
1
>>> print(out.getvalue().splitlines()[1])
press3,abababababab,a.wav,0.0,2.0,0.5,0,0,2026-01-01T00:00:00.000+00:00,
"""

from __future__ import annotations

import csv
import datetime

from ..score_csv import csv_number

__all__ = ["HISTORY_COLUMNS", "write_csv", "summary_lines"]

#: Columns of ``audioad history --csv``: one row a segment; ``model`` is the start of the model file's SHA-256.
HISTORY_COLUMNS = ("source", "model", "file", "start", "end", "score", "label", "alert", "scored_at", "error")

# Rows read from the store at a time: months of history are exported without being held at once.
_PAGE = 10_000


def _iso(seconds):
    if seconds is None:
        return ""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds")


def write_csv(store, file, source=None, since=None):
    """Write the segments scored since ``since`` (epoch seconds) of machine ``source`` (or all) to ``file``, as CSV.

    Returns
    -------
    int
        Rows written.
    """
    writer = csv.writer(file)
    writer.writerow(HISTORY_COLUMNS)
    written, after = 0, 0
    while rows := store.segments(source, since, after, limit=_PAGE):
        for r in rows:
            writer.writerow(
                [r["source"], r["model"][:12], r["file"], csv_number(r["start"]), csv_number(r["stop"]),
                 csv_number(r["score"]), "" if r["label"] is None else r["label"],
                 "" if r["alert"] is None else r["alert"], _iso(r["scored_at"]), r["error"]]
            )  # fmt: skip
        written, after = written + len(rows), rows[-1]["id"]
    return written


def _g(value):
    return "-" if value is None else f"{value:.4g}"


def summary_lines(store, source=None, since=None):
    """One line a machine: segments and alerts since ``since``, its last score against its thresholds, its state."""
    counts = store.counts(since)
    lines = []
    for s in store.sources():
        if source is not None and s["name"] != source:
            continue
        scored, above, raised = counts.get(s["id"], (0, 0, 0))
        last = "no segment yet" if s["last_at"] is None else f"last {_iso(s['last_at'])} score {_g(s['last_score'])}"
        lines.append(
            f"{s['name']} (model {s['model'][:12]}): {scored} segments, {above} above {_g(s['threshold'])}, "
            f"{raised} alerts; {last}; {s['state']}"
        )
    return lines
