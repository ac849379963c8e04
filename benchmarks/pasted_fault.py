"""A 10 s fault in a long normal recording: is it the worst segment, and does the file threshold flag the file?

Issue 15's check, as its filer built it: a 10 s bearing fault of the BLDC motor recordings
(../shared/data/bldc_motor) pasted at 20:00 into 35 minutes of the motors' normal sound. The model
is fitted on one normal recording, 2 minutes long (the first 6 s of each healthy recording, in a
shuffled order); the 35 minutes are the rest of the healthy recordings, shuffled and looped. The
same is built from ``make_machine_sounds`` (a fan: 30 normal training clips of 10 s in one recording,
normal test clips looped, an anomalous clip pasted), which needs no shared data.

For each detector: the held-out segments of the training recording (how many, their largest
score), the fault's segment and the largest of the normal segments, the file threshold for 0.1
false alarms an hour (rule "any", 10 s segments; :func:`audioad.thresholds.file_threshold`),
whether the file is flagged, and the false-alarm rate an hour from which it would be.

Run: ``python benchmarks/pasted_fault.py`` (about 2 minutes; ``--no-write`` prints only).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, run_lines, write_results

SR = 16000
SEGMENT = 10
PER_HOUR = 0.1
MINUTES = 35
FAULT_AT = 20 * 60


def pasted_fault_recordings(minutes, fault_at, source="bldc_motor", data=DEFAULT_DATA):
    """A normal training recording, and a test recording of ``minutes`` with a 10 s fault at ``fault_at`` s.

    Parameters
    ----------
    minutes : float
        Length of the test recording.
    fault_at : int
        Second at which the fault's 10 s are pasted.
    source : {"bldc_motor", "synthetic"}
        The BLDC recordings (the first 6 s of each healthy recording, shuffled, to train; the rest,
        shuffled and looped, to test; a bearing fault), or ``make_machine_sounds``' fan (its source
        domain: 30 training clips to train, 20 normal test clips looped, an anomalous clip).
    data : pathlib.Path
        The folder of the shared recordings.

    Returns
    -------
    train, test : numpy.ndarray of float32 at 16 kHz
    """
    from audioad.audio import load_audio

    if source == "bldc_motor":
        folder = Path(data) / "bldc_motor"
        with open(folder / "manifest.csv", newline="") as f:
            table = list(csv.DictReader(f))
        healthy = [load_audio(folder / r["path"], sr=SR)[0] for r in table if r["condition"] == "healthy"]
        fault = next(load_audio(folder / r["path"], sr=SR)[0] for r in table if r["condition"] == "bearing")
        # The motors at their speeds in a shuffled order, as a recorder hears a machine change speed:
        # each held-out fold of the recording holds speeds the other folds have too, on other motors.
        order = np.random.default_rng(1).permutation(len(healthy))
        train = np.concatenate([healthy[i][: 6 * SR] for i in order])
        rest = [h[6 * SR :] for h in healthy]
    else:
        from audioad.datasets import make_machine_sounds

        with tempfile.TemporaryDirectory() as tmp:
            clips = make_machine_sounds(
                tmp, machines=("fan",), n_sections=1, n_train=30, n_test_normal=20,
                n_test_anomaly=1, duration=10.0, anomaly_strength=3.0, random_state=0,
            )  # fmt: skip
            waves = {c.path: load_audio(c.path, sr=SR)[0] for c in clips}
        # Source domain only: target-domain clips are another machine state, which this recording lacks.
        train = np.concatenate([waves[c.path] for c in clips if c.split == "train" and c.domain == "source"])
        rest = [waves[c.path] for c in clips if c.split == "test" and c.label == "normal" and c.domain == "source"]
        fault = next(waves[c.path] for c in clips if c.label == "anomaly")
    order = np.random.default_rng(0).permutation(np.resize(np.arange(len(rest)), 60 * minutes))
    test = np.concatenate([rest[i] for i in order])[: int(minutes * 60 * SR)].copy()
    test[fault_at * SR : (fault_at + 10) * SR] = fault[: 10 * SR]
    return train, test


def flagged_from(held_out, score, hop_seconds=SEGMENT):
    """The fewest false alarms an hour at which ``score`` is above the file threshold (rule "any")."""
    from audioad.thresholds import file_threshold

    low, high = 1e-4, 1800.0  # at 1,800 an hour of 10 s segments half the segments are false alarms
    if file_threshold(held_out, high, hop_seconds) >= score:
        return float("inf")
    if file_threshold(held_out, low, hop_seconds) < score:
        return low  # flagged at one false alarm in 10,000 hours already
    for _ in range(60):  # bisection on a log scale; the threshold falls as the rate rises
        middle = (low * high) ** 0.5
        low, high = (middle, high) if file_threshold(held_out, middle, hop_seconds) >= score else (low, middle)
    return high


def _rate(per_hour):
    return "≤ 0.0001" if per_hour <= 1e-4 else "never" if per_hour == float("inf") else f"{per_hour:.2g}"


def detectors():
    from audioad import MelKNN, WindowKNN, default_detector
    from audioad.detectors.ensemble import Ensemble

    return {
        "default": default_detector(),
        "default before issue 14": Ensemble(
            [MelKNN(), MelKNN(pooling="delta_std"), WindowKNN(context=5, window_hop=2, max_windows=2048)]
        ),
        # The default with the Euclidean mean view beside its two (choices.py's regret tables compare them).
        "max(mean + mean/M + delta_std/M)": Ensemble(
            [MelKNN(), MelKNN(metric="mahalanobis"), MelKNN(pooling="delta_std", metric="mahalanobis")],
            combine="max",
        ),
    }


def measure(name, detector, train, test):
    from audioad.thresholds import file_threshold

    detector.fit([train], segment=f"{SEGMENT}s")
    held_out = detector.decision_scores_
    level = file_threshold(held_out, PER_HOUR, SEGMENT)
    result = detector.score_segments([test], segment=f"{SEGMENT}s", file_threshold=level)
    [summary] = result.files
    scores = {row.start: row.score for row in result.rows}
    fault = scores.pop(float(FAULT_AT))
    normal = max(scores.values())
    return (
        f"| {name} | {len(held_out)} | {held_out.max():.2f} | {fault:.2f} | {normal:.2f} | "
        f"{summary.worst_start / 60:.2f} | {level:.2f} | {'yes' if summary.flagged else 'no'} | "
        f"{_rate(flagged_from(held_out, fault))} |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    load, started = os.getloadavg(), time.perf_counter()
    warnings.simplefilter("ignore")
    sources = ["synthetic"]
    notes = []
    if (args.data / "bldc_motor" / "manifest.csv").exists():
        sources.insert(0, "bldc_motor")
    else:
        notes.append(f"- {args.data} not found: the synthetic recording only")
        print(notes[-1], flush=True)
    rows = []
    for source in sources:
        train, test = pasted_fault_recordings(MINUTES, FAULT_AT, source, args.data)
        for name, detector in detectors().items():
            rows.append(f"| {source} | {len(train) / SR / 60:.1f} " + measure(name, detector, train, test))
            print(rows[-1], flush=True)
    section = "\n".join(
        [
            "## A fault in a long recording (`benchmarks/pasted_fault.py`)",
            "",
            *run_lines("python benchmarks/pasted_fault.py", started, load),
            f"- a 10 s fault pasted at {FAULT_AT // 60}:00 into {MINUTES} minutes of normal sound; fitted on one"
            f" normal recording in {SEGMENT} s segments; file threshold"
            f" for {PER_HOUR:g} false alarms an hour, rule any; 'flagged from': the false alarms an hour at which"
            " the fault's segment would pass the file threshold",
            *notes,
            "",
            "| recording | training (min) | detector | held-out segments | their largest score | fault's segment"
            " | largest normal segment | worst segment at (min) | file threshold | flagged | flagged from (an hour) |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
            *rows,
        ]
    )
    print("\n" + section)
    if not args.no_write:
        write_results("pasted_fault.py", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
