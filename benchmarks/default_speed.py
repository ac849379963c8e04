"""The default detector's fit and scoring time against issue 22's limits, scaled down.

One command::

    python benchmarks/default_speed.py              # 200 synthetic clips of 10 s at 16 kHz: ~2 minutes on 2 cores
    python benchmarks/default_speed.py --clips 100  # quicker

Issue 22's limits on 2 cores: fitting 2,000 clips of 10 s in at most 2 minutes, and scoring at
500 s of audio a second or more. This fits ``default_detector()`` and the default before issue 22
(its two MelKNN views, WindowKNN as frame detector) on ``--clips`` clips of
:func:`audioad.datasets.make_machine_sounds` (10 s, 16 kHz, decoded once, so decoding is not
timed; the log-mel front end is), and scores the same clips again with ``decision_function``
and with ``score_clips(frames=True)``, the fastest of ``--repeats`` runs each. The fit time for
2,000 clips is extrapolated linearly (every part of the fit is linear in the clips, or bounded:
the reference frames and windows are capped, and the pooled k-NN's distances are between
vectors of 128 values). Figures go to stdout only: timings on a machine shared with other work
are noisy, so run it on an idle one before quoting them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import default_before_issue_22, fastest

SR = 16000
SECONDS = 10.0


def detectors():
    from audioad.detectors.ensemble import default_detector

    return {"default": default_detector, "default before issue 22": default_before_issue_22}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The default detector's fit and scoring time.")
    parser.add_argument("--clips", type=int, default=200, help="clips of 10 s (default 200)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each timing; the fastest counts")
    args = parser.parse_args(argv)
    from audioad.audio import load_audio
    from audioad.datasets import make_machine_sounds

    with tempfile.TemporaryDirectory(prefix="audioad-default-speed-") as tmp:
        table = make_machine_sounds(
            Path(tmp),
            machines=("fan",),
            n_sections=1,
            n_train=args.clips,
            n_test_normal=1,
            n_test_anomaly=1,
            duration=SECONDS,
            sr=SR,
            random_state=0,
        )
        clips = [(load_audio(c.path, sr=SR)[0], SR) for c in table if c.split == "train"]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (np.nan,) * 3
    print(f"{len(clips)} clips of {SECONDS:g} s; {os.cpu_count()} cores, load average {load[0]:.1f}", flush=True)
    print(
        "| detector | fit s | fit s for 2,000 clips (linear) | decision_function, s of audio per s | "
        "score_clips(frames=True), s of audio per s |"
    )
    print("|---|---:|---:|---:|---:|")
    audio = len(clips) * SECONDS
    for name, make in detectors().items():
        fit_s, detector = fastest(lambda make=make: make().fit(clips), args.repeats)
        score_s, _ = fastest(lambda detector=detector: detector.decision_function(clips), args.repeats)
        frames_s, _ = fastest(lambda detector=detector: detector.score_clips(clips, frames=True), args.repeats)
        cells = f"{fit_s:.1f} | {fit_s * 2000 / len(clips):.0f} | {audio / score_s:.0f} | {audio / frames_s:.0f}"
        print(f"| {name} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
