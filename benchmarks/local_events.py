"""Local events: the minimum in-band level of a 2 s event that ``threshold_`` flags in 90 % of new normal clips.

One command::

    python benchmarks/local_events.py            # bldc_motor and fan (synthetic without ../shared/data): ~3 minutes
    python benchmarks/local_events.py --no-write # print only

Issue 22, item 4. Each set is split in time, as a user meets it: train on some recordings, test on
others made later or of another motor and speed.

- ``bldc_motor``: the whole ~10 s healthy recordings (mono, 16 kHz), the manifest sorted by path;
  the even-numbered ones (0, 2, ...) train, the odd-numbered ones test (every motor and speed is on
  both sides, no recording on both).
- ``fan``: the 5 s segments; the 2020-03-18 session trains, the 2021-02-10 session tests (a year
  of drift).
- ``synthetic`` (only without ``../shared/data``): :func:`audioad.datasets.make_machine_sounds`'
  fan, 10 s clips at 16 kHz, clips at their own speed, its train / normal test split.

Every normal test clip is scored as it is (the false-alarm rate at ``threshold_``, against
``contamination`` plus two binomial standard errors, as run.py allows; beside it the ensemble's
``coverage_``, which fit measures from the training clips alone) and with each event of
``injections.py`` (a 3 kHz tone, a click train, an octave noise burst; 2 s centred in the clip)
added at each in-band level of run.py's ``LEVELS``. The minimum detectable level is the lowest
level from which on at least 90 % of the injected clips are flagged (run.py's rule).

Where a detector has an event view (:func:`audioad.explain.event_view`), ``explain`` is checked on
the same clips with each event at +10 dB: the share whose first finding is the event (its band,
during it), and the largest change of any finding of a clean test clip.

The detectors: ``default_detector()``; the default before issue 22 (the same two MelKNN views,
``combine="max"``, WindowKNN as frame detector with no say in the score); ``EventKNN`` alone.
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
from common import DEFAULT_DATA, RESULTS_PATH, default_before_issue_22, run_lines, write_results
from injections import EVENT_NAMES, EVENTS, event_band, inject
from run import LEVELS, allowed_far, level_text, minimum_level

SR = 16000
SETS = ("bldc_motor", "fan")
#: The in-band level (dB) of the events whose explanation is checked.
EXPLAIN_LEVEL = 10.0


def detectors():
    """The detectors compared, by name: each an unfitted audioad detector."""
    from audioad.detectors.ensemble import default_detector
    from audioad.detectors.event_knn import EventKNN

    return {"default": default_detector(), "default before issue 22": default_before_issue_22(), "EventKNN": EventKNN()}


def real_split(folder: Path, name: str):
    """``(train, test)`` waveforms of set ``name``, split in time (see the module's text)."""
    from audioad.audio import load_audio
    from audioad.datasets import read_dataset

    clips = sorted((c for c in read_dataset(folder) if c.label != "anomaly"), key=lambda c: str(c.path))
    waves = [load_audio(c.path, sr=SR)[0].astype(np.float32) for c in clips]
    if name == "bldc_motor":
        train = [i for i in range(len(clips)) if i % 2 == 0]
    else:
        train = [i for i, c in enumerate(clips) if "2020" in c.attributes["group"]]
    test = [i for i in range(len(clips)) if i not in set(train)]
    return [waves[i] for i in train], [waves[i] for i in test]


def synthetic_split(folder: Path, seed: int = 0):
    from audioad.audio import load_audio
    from audioad.datasets import make_machine_sounds

    table = make_machine_sounds(
        folder,
        machines=("fan",),
        n_sections=1,
        n_train=20,
        n_test_normal=10,
        n_test_anomaly=1,
        duration=10.0,
        sr=SR,
        speed_spread=0.05,
        random_state=seed,
    )
    train = [load_audio(c.path, sr=SR)[0] for c in table if c.split == "train"]
    test = [load_audio(c.path, sr=SR)[0] for c in table if c.split == "test" and c.label != "anomaly"]
    return train, test


def measure(detector, train, test):
    """Fit on ``train``; the share of ``test`` flagged clean, and with each event at each level."""
    start = time.perf_counter()
    detector.fit([(w, SR) for w in train])
    fit_s = time.perf_counter() - start
    clean = detector.decision_function([(w, SR) for w in test]) > detector.threshold_
    rates = {}
    for event in EVENTS:
        injected = [(inject(w, SR, event, level, seed=k), SR) for level in LEVELS for k, w in enumerate(test)]
        flagged = detector.decision_function(injected) > detector.threshold_
        rates[event] = flagged.reshape(len(LEVELS), len(test)).mean(axis=1).tolist()
    explained = explained_events(detector, test)
    return {
        "far": float(clean.mean()),
        "n": len(test),
        "rates": rates,
        "fit_s": fit_s,
        "explained": explained,
        "allowed": allowed_far(detector.contamination, len(test)),
        "coverage": getattr(detector, "coverage_", None),
    }


def explained_events(detector, test):
    """Where explain compares with the nearest normal frames: the share of clips with an event at
    :data:`EXPLAIN_LEVEL` whose first finding is the event (in its band, during it), and the largest
    change of any finding of a clean test clip; None for a detector without an event view."""
    from audioad.explain import event_view, explain

    if event_view(detector) is None:
        return None
    n = len(test[0]) / SR
    found = {}
    for event in EVENTS:
        low, high = event_band(event)
        injected = [(inject(w, SR, event, EXPLAIN_LEVEL, seed=k), SR) for k, w in enumerate(test)]
        firsts = [e.findings[0] if e.findings else None for e in explain(detector, injected)]
        found[event] = float(
            np.mean(
                [
                    f is not None and f.start < n / 2 + 1 and f.end > n / 2 - 1 and f.low_hz < high and f.high_hz > low
                    for f in firsts
                ]
            )
        )
    changes = [f.change_db for e in explain(detector, [(w, SR) for w in test]) for f in e.findings]
    return {"first": found, "largest_clean_db": max(changes, default=0.0)}


def tables(results) -> str:
    lines = [
        "| set | detector | FAR at threshold_ (allowed) | coverage_ | "
        + " | ".join(f"{EVENT_NAMES[e]}: minimum level" for e in EVENTS)
        + " |",
        "|---|---|---:|---:|" + "---:|" * len(EVENTS),
    ]
    for name, per_detector in results.items():
        for label, r in per_detector.items():
            ok = r["far"] <= r["allowed"]
            cells = [level_text(minimum_level(r["rates"][e], LEVELS), ok, r["far"], r["allowed"]) for e in EVENTS]
            coverage = "" if r["coverage"] is None else f"{r['coverage']:.2f}"
            lines.append(
                f"| {name} | {label} | {r['far']:.2f} ({r['allowed']:.2f}) | {coverage} | " + " | ".join(cells) + " |"
            )
    lines += ["", "Share of injected clips flagged at `threshold_`, per level:", ""]
    lines += [
        "| set | detector | event | " + " | ".join(f"{level:+d} dB" for level in LEVELS) + " |",
        "|---|---|---|" + "---:|" * len(LEVELS),
    ]
    for name, per_detector in results.items():
        for label, r in per_detector.items():
            for event in EVENTS:
                cells = " | ".join(f"{rate:.2f}" for rate in r["rates"][event])
                lines.append(f"| {name} | {label} | {EVENT_NAMES[event]} | {cells} |")
    lines += [
        "",
        f"`audioad.explain` with the nearest normal frames (event view), events at {EXPLAIN_LEVEL:+.0f} dB: "
        "the share of "
        "clips whose first finding is the event (its band, during it), and the largest change of any finding of a "
        "clean test clip (goal: +10 dB or less):",
        "",
    ]
    lines += [
        "| set | detector | " + " | ".join(EVENT_NAMES[e] for e in EVENTS) + " | largest finding, clean clips |",
        "|---|---|" + "---:|" * (len(EVENTS) + 1),
    ]
    for name, per_detector in results.items():
        for label, r in per_detector.items():
            if r.get("explained"):
                cells = " | ".join(f"{r['explained']['first'][e]:.2f}" for e in EVENTS)
                lines.append(f"| {name} | {label} | {cells} | {r['explained']['largest_clean_db']:+.1f} dB |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Minimum detectable level of 2 s events on time splits.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--detectors", nargs="+", help="some of the detectors, by name")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/local_events.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    candidates = detectors()
    if args.detectors:
        candidates = {name: candidates[name] for name in args.detectors}
    results, notes = {}, []
    with tempfile.TemporaryDirectory(prefix="audioad-local-events-") as tmp:
        if args.data.is_dir():
            splits = {name: real_split(args.data / name, name) for name in SETS}
        else:
            notes.append("../shared/data not found: the synthetic set only")
            splits = {"synthetic": synthetic_split(Path(tmp))}
        for name, (train, test) in splits.items():
            results[name] = {}
            for label, detector in candidates.items():
                results[name][label] = measure(detector, train, test)
                r = results[name][label]
                print(f"{name} / {label}: FAR {r['far']:.2f}, fit {r['fit_s']:.1f} s", flush=True)
    body = tables(results)
    print("\n" + body, flush=True)
    section = [
        "## Local events on time splits (`benchmarks/local_events.py`)",
        "",
        *run_lines(command, began, load),
        "- bldc_motor: even-numbered healthy recordings (sorted manifest) train, odd-numbered test; "
        "fan: the 2020 session trains, the 2021 session tests; events of injections.py, 2 s centred",
        *[f"- note: {note}" for note in notes],
        "",
        body,
    ]
    if not args.no_write:
        write_results("local_events.py", "\n".join(section))
        print(f"wrote the local_events.py section of {RESULTS_PATH}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
