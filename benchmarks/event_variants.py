"""Variants of the event view (EventKNN) that were tried and rejected, measured on time splits.

One command::

    python benchmarks/event_variants.py             # every variant, every set below (see RESULTS.md for its time)
    python benchmarks/event_variants.py --no-write  # print only

Issue 22: benchmarks/README.md lists what was tried for the event view and rejected; this script
gives the figures. A variant is a parameter of :class:`audioad.detectors.event_knn.EventKNN`
(:data:`VARIANTS`), or a margin taken off the event view's standardised score before the
default's ``max`` (:data:`MARGINS`). Each set is split as a user meets it, and every view is
fitted once per split, inside one :class:`~audioad.detectors.ensemble.Ensemble` (its held-out
scores standardise the views and set the thresholds, as in the default):

- **Local events** (``local_events.py``'s protocol and splits): ``bldc_motor`` trained on the
  even-numbered healthy recordings, tested on the odd-numbered ones; ``fan`` trained on the 2020
  session, tested on 2021. For each variant alone and for the default built with it
  (``max(mean/M + delta_std/M + variant)``): the share of clean test clips flagged at the
  threshold (allowed: run.py's rule), and the lowest in-band level of each 2 s event from which
  on 90 % of clips are flagged.
- **AUC** (``devsets.py``'s protocol: by recording and by time, both directions) on the sets whose
  clips are long enough for the event view (3 s): ``fan``, ``fan-drift``, ``stationary-10s-16k``,
  ``fluctuation-10s-48k``; the variant alone and the default built with it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from choices import set_scores, view_scores
from common import DEFAULT_DATA, run_lines, write_results
from injections import EVENT_NAMES, EVENTS, inject
from local_events import SR, real_split
from run import LEVELS, allowed_far, level_text, minimum_level

#: name: EventKNN's parameters. The first is EventKNN as the default builds it.
VARIANTS = {
    "as built": {},
    "512 references": {"max_frames": 512},
    "8192 references": {"max_frames": 8192},
    "search on 128 bands": {"search_band_group": 1},
    "search on 128 bands, 8192 references": {"search_band_group": 1, "max_frames": 8192},
    "no gain term": {"frame_medians": False},
    "no clip median": {"band_medians": False},
}
#: Spreads taken off the event view's standardised score before the default's max.
MARGINS = (1.0, 3.0)
EVENT_SETS = ("bldc_motor", "fan")
AUC_SETS = ("fan", "fan-drift", "stationary-10s-16k", "fluctuation-10s-48k")
PARTNERS = ("mean/M", "delta_std/M")


def views(names):
    """The default's two pooled views and the EventKNN variants ``names``, each unfitted."""
    from audioad.detectors.event_knn import EventKNN
    from audioad.detectors.knn import MelKNN

    found = {"mean/M": MelKNN(metric="mahalanobis"), "delta_std/M": MelKNN(pooling="delta_std", metric="mahalanobis")}
    return found | {name: EventKNN(**VARIANTS[name]) for name in names}


def configurations(names):
    """Column lists and margins: each variant alone, and the default built with it (and with each margin)."""
    found = {}
    for name in names:
        found[name] = ([name], None)
        found[f"default with {name}"] = ([*PARTNERS, name], 0.0)
    for margin in MARGINS:
        found[f"default, event view less {margin:g} spreads"] = ([*PARTNERS, names[0]], margin)
    return found


def scores_of(held, test, columns, margin):
    """(held-out, test) scores of a configuration: a view's own, or the default's max with the event view lowered."""
    from audioad.detectors.ensemble import member_standardisation

    if margin is None:
        return held[:, columns[0]], test[:, columns[0]]
    centres, scales, informative = member_standardisation(held[:, columns])
    lowered = np.array([0.0] * (len(columns) - 1) + [margin])

    def combine(scores):
        standardised = (scores[:, columns] - centres) / scales - lowered
        return standardised[:, informative].max(axis=1)

    return combine(held), combine(test)


def local_events(data: Path, names, column):
    """Per set and configuration: FAR at the threshold and the share flagged per event and level."""
    from audioad.thresholds import threshold

    results = {}
    for name in EVENT_SETS:
        train, test = real_split(data / name, name)
        injected = [
            inject(w, SR, event, level, seed=k) for event in EVENTS for level in LEVELS for k, w in enumerate(test)
        ]
        every = [(w, SR) for w in train + test + injected]
        section = {"train": list(range(len(train))), "test": list(range(len(train), len(every))), "y": []}
        [(held, scored, _)] = view_scores(every, [section], views(names))
        results[name] = {}
        for label, (columns, margin) in configurations(names).items():
            held_scores, test_scores = scores_of(held, scored, [column[c] for c in columns], margin)
            flagged = test_scores > threshold(held_scores, rule="contamination", contamination=0.1)
            rates = flagged[len(test) :].reshape(len(EVENTS), len(LEVELS), len(test)).mean(axis=2)
            results[name][label] = {
                "far": float(flagged[: len(test)].mean()),
                "allowed": allowed_far(0.1, len(test)),
                "rates": {event: rates[i].tolist() for i, event in enumerate(EVENTS)},
            }
        print(f"{name}: local events done", flush=True)
    return results


def aucs(data: Path, names, column, cache: Path):
    """Per set and configuration: AUC, the mean over the splits and sections of devsets.py."""
    from audioad.metrics import auc

    results = {}
    for name in AUC_SETS:
        runs = [scores[:3] for scores in set_scores(name, (0,), cache, data, views(names))]
        results[name] = {
            label: float(np.mean([auc(y, scores_of(h, t, [column[c] for c in cols], m)[1]) for h, t, y in runs]))
            for label, (cols, m) in configurations(names).items()
        }
        print(f"{name}: AUC done", flush=True)
    return results


def tables(events, auc_results, names) -> str:
    labels = list(configurations(names))
    lines = [
        "| configuration | "
        + " | ".join(f"{s}: FAR (allowed) | " + " | ".join(EVENT_NAMES[e] for e in EVENTS) for s in events)
        + " |",
        "|---|" + "---:|" * (len(events) * (1 + len(EVENTS))),
    ]
    for label in labels:
        cells = []
        for per_set in events.values():
            r = per_set[label]
            ok = r["far"] <= r["allowed"]
            cells.append(f"{r['far']:.2f} ({r['allowed']:.2f})")
            cells += [level_text(minimum_level(r["rates"][e], LEVELS), ok, r["far"], r["allowed"]) for e in EVENTS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "AUC (mean over splits), devsets.py's protocol:", ""]
    lines += ["| configuration | " + " | ".join(auc_results) + " |", "|---|" + "---:|" * len(auc_results)]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{auc_results[s][label]:.3f}" for s in auc_results) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The rejected variants of the event view, measured on time splits.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="some of the variants (the first always)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} not found: the local events and three of the sets are real recordings", file=sys.stderr)
        return 1
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/event_variants.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    names = list(dict.fromkeys([next(iter(VARIANTS)), *(args.variants or VARIANTS)]))
    column = {name: i for i, name in enumerate(views(names))}
    events = local_events(args.data, names, column)
    with tempfile.TemporaryDirectory(prefix="audioad-event-variants-") as tmp:
        auc_results = aucs(args.data, names, column, Path(tmp))
    body = tables(events, auc_results, names)
    print("\n" + body, flush=True)
    section = [
        "## Variants of the event view (`benchmarks/event_variants.py`)",
        "",
        *run_lines(command, began, load),
        "- local events: local_events.py's splits (bldc_motor even/odd recordings, fan 2020 → 2021), in-band "
        "levels of 2 s events flagged in 90 % of clips at the threshold from held-out training scores; AUC: "
        "devsets.py's protocol. `default with X`: max(mean/M + delta_std/M + X), each view standardised on its "
        "held-out scores; `less m spreads`: the event view's standardised score lowered by m before the max",
        "",
        body,
    ]
    if not args.no_write:
        write_results("event_variants.py", "\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
