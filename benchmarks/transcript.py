"""docs/transcript.md: `audioad fit`, `score --segment`, `watch` and `report` on the BLDC motors with a pasted fault.

What a maintenance engineer sees, as the commands print it: a model fitted on 2 minutes of the
motors running normally (../shared/data/bldc_motor), then a 15-minute recording with a 10 s bearing
fault pasted at 7:00 (:func:`pasted_fault.pasted_fault_recordings`, issue 15's recording), scored
segment by segment, scored again with 20 more minutes of normal running to set the alarm level
from, watched as a recorder's folder, and reported as an HTML page.

Run: ``python benchmarks/transcript.py`` (about a minute; needs the shared recordings).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf
from common import DEFAULT_DATA, REPO, SRC
from pasted_fault import SR, pasted_fault_recordings

OUT = REPO / "docs" / "transcript.md"

INTRO = """\
# A session with audioad, as the commands print it

Written by `python benchmarks/transcript.py`; rerun it to see the words the current code prints.

The machine: small brushless motors (the BLDC recordings of `../shared/data/bldc_motor`), heard
through one microphone at 16 kHz. The files:

- `normal.wav`: 2 minutes of the motors running normally, to learn from.
- `motor-15min.flac`: 15 minutes of the motors running, with a 10 s bearing fault at 0:07:00.
- `normal-20min.wav`: 20 more minutes of normal running, recorded later, which the model did not learn from.

Progress bars are turned off (`-q`); times in the verdicts are h:mm:ss into the recording.
"""

STEPS = [
    (
        "Learn what the motors sound like when they run normally, from one 2-minute recording cut into 10 s segments:",
        ["fit", "normal.wav", "--segment", "10s", "--out", "motor.audioad", "-q"],
    ),
    (
        "Check a 15-minute recording, 10 s at a time. Each file gets one verdict: normal, "
        "unusual (review it), or ALARM, with the reason and what to do next:",
        ["score", "motor.audioad", "motor-15min.flac", "--segment", "10s", "--out", "scores.csv", "-q"],
    ),
    (
        "Do what it advises: set the thresholds from 20 more minutes of normal running that the model "
        "did not learn from:",
        [
            "score", "motor.audioad", "motor-15min.flac", "--segment", "10s",
            "--calibrate", "normal-20min.wav", "--out", "scores-calibrated.csv", "-q",
        ],
    ),
    (
        "Watch the folder a recorder writes into (here it holds the same 15 minutes; `--idle-exit 3` stops "
        "the watch once nothing new has come for 3 s). A segment that sounds unlike any normal running is "
        "printed as it is scored; an alarm is raised when the rule holds:",
        [
            "watch", "motor.audioad", "recorder/", "--out", "watch.csv",
            "--settle", "0.5", "--poll", "0.2", "--idle-exit", "3",
        ],
    ),
    (
        "Write one HTML page to read in a browser (the score of every clip, the highest-scoring in full):",
        ["report", "motor.audioad", "normal-20min.wav", "motor-15min.flac", "--out", "report.html", "-q"],
    ),
]  # fmt: skip


def record(folder, data):
    """The recordings of the session, written into ``folder``."""
    train, test = pasted_fault_recordings(15, 7 * 60, "bldc_motor", data)
    # 20 minutes of normal running, another shuffle of the recordings the model did not learn from.
    _, later = pasted_fault_recordings(21, 20 * 60, "bldc_motor", data)
    sf.write(folder / "normal.wav", train, SR, subtype="PCM_16")
    sf.write(folder / "motor-15min.flac", test, SR, subtype="PCM_16")
    sf.write(folder / "normal-20min.wav", later[: 20 * 60 * SR], SR, subtype="PCM_16")
    (folder / "recorder").mkdir()
    sf.write(folder / "recorder" / "motor-15min.flac", test, SR, subtype="PCM_16")


def run(args, folder):
    """What ``audioad args`` prints, stdout and stderr as they interleave, run in ``folder``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "audioad", *args], cwd=folder, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=900,
    )  # fmt: skip
    return done.stdout.rstrip("\n"), done.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--out", type=Path, default=OUT, help="the transcript to write")
    args = parser.parse_args(argv)
    if not (args.data / "bldc_motor" / "manifest.csv").exists():
        print(f"{args.data / 'bldc_motor'} not found: the transcript needs the shared BLDC recordings", file=sys.stderr)
        return 1
    parts = [INTRO]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        record(folder, args.data)
        for words, command in STEPS:
            output, code = run(command, folder)
            status = f"\n(exit status {code})" if code else ""
            parts.append(f"{words}\n\n```\n$ audioad {shlex.join(command)}\n{output}{status}\n```\n")
    args.out.write_text("\n".join(parts))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
