"""The README's pictures: an explanation plot, a screenshot of an `audioad report` page, a long recording.

Run from the repository root (Chromium for the screenshot: Debian's ``chromium`` package):

    .venv/bin/python benchmarks/figures.py              # all three
    .venv/bin/python benchmarks/figures.py recording    # docs/recording.png alone

It makes one synthetic machine (:func:`audioad.datasets.make_machine_sounds`), fits the default
detector on its normal training clips, pastes a 2.45 kHz tone from 0.8 to 1.3 s into a normal
test clip, and writes

- ``docs/explanation.png``: :func:`audioad.plotting.plot_clip` of that clip (spectrogram beside
  the normal reference, deviation map with its findings);
- ``docs/report.png``: the top of the report of the machine's test clips (with the pasted
  one), sorted by score, as headless Chromium renders it;
- ``docs/recording.png``: :func:`audioad.plotting.plot_recording` of a 3-hour FLAC of another
  synthetic machine with a 10 s fault pasted at 2:07:30, scored by the default detector fitted on
  2 minutes of its normal sound cut into 10 s segments.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from audioad import default_detector
from audioad.datasets import make_machine_sounds, read_dataset
from audioad.explain import explain
from audioad.plotting import plot_clip, plot_recording
from audioad.report import build_report, write_report

DOCS = Path(__file__).resolve().parent.parent / "docs"
TONE_HZ, TONE_START, TONE_END = 2450.0, 0.8, 1.3
RECORDING_HOURS, FAULT_AT = 3, 2 * 3600 + 7 * 60 + 30


def with_tone(y, sr):
    """``y`` with a tone at TONE_HZ from TONE_START to TONE_END, as loud as the clip."""
    y = y.copy()
    first, last = int(TONE_START * sr), int(TONE_END * sr)
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    y[first:last] += rms * np.sqrt(2) * np.sin(2 * np.pi * TONE_HZ * np.arange(last - first) / sr)
    return y


def screenshot(page, png, width=1280, height=1500, fragment=""):
    """Render ``page`` in headless Chromium into ``png``; False where there is no Chromium."""
    browser = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if browser is None:
        print("no Chromium: docs/report.png not made (Debian: apt-get install chromium)", file=sys.stderr)
        return False
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}",
         f"--screenshot={png}", Path(page).resolve().as_uri() + fragment],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return True


def recording():
    """docs/recording.png: a 3-hour recording with a 10 s fault, drawn as ``audioad plot`` draws it."""
    with tempfile.TemporaryDirectory() as root:
        clips = make_machine_sounds(root, machines=("pump",), n_sections=1, n_train=12, n_test_normal=20,
                                    n_test_anomaly=1, duration=10.0, anomaly_strength=1.0, target_fraction=0.0,
                                    random_state=0)  # fmt: skip
        waves = {c.path: sf.read(c.path, dtype="float32") for c in clips}
        sr = waves[clips[0].path][1]
        train = np.concatenate([waves[c.path][0] for c in clips if c.split == "train"])
        normal = [waves[c.path][0] for c in clips if c.split == "test" and c.label == "normal"]
        fault = next(waves[c.path][0] for c in clips if c.label == "anomaly")
        path = Path(root) / "pump-3h.flac"
        order = np.random.default_rng(0).integers(len(normal), size=RECORDING_HOURS * 360)
        with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
            for n, i in enumerate(order):
                f.write(fault if n * 10 == FAULT_AT else normal[i])
        detector = default_detector().fit([train], segment="10s")
        plot_recording(detector, path, title="Default detector: 3 hours of a pump, a 10 s fault pasted at 2:07:30",
                       path=DOCS / "recording.png", dpi=80)  # fmt: skip
        print(f"wrote {DOCS / 'recording.png'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = ("clip", "recording")
    parser.add_argument(
        "figures",
        nargs="*",
        metavar="{clip,recording}",
        help="clip: explanation.png, report.png; recording: recording.png (both by default)",
    )
    # Checked here: argparse (3.11) checks an empty list against choices= as one value and refuses it.
    figures = parser.parse_args(argv).figures or kinds
    if set(figures) - set(kinds):
        parser.error(f"figures are {' and '.join(kinds)}, got {' '.join(figures)}")
    DOCS.mkdir(exist_ok=True)
    if "recording" in figures:
        recording()
    if "clip" not in figures:
        return
    with tempfile.TemporaryDirectory() as root:
        make_machine_sounds(root, machines=("fan",), n_sections=1, n_train=30, n_test_normal=10, n_test_anomaly=10,
                            duration=2.0, target_fraction=0.2, anomaly_strength=2.0, random_state=0)  # fmt: skip
        train = read_dataset(Path(root) / "fan" / "train")
        test = read_dataset(Path(root) / "fan" / "test")
        detector = default_detector().fit(train.paths)
        normal = [c.path for c in test if c.label == "normal"][0]
        y, sr = sf.read(normal, dtype="float32")
        tone = Path(root) / "fan" / "test" / "section_00_source_test_anomaly_9999_pasted_tone.wav"
        sf.write(tone, with_tone(y, sr), sr)
        (explained,) = explain(detector, [str(tone)])
        print(f"pasted {TONE_HZ:.0f} Hz at {TONE_START}-{TONE_END} s; explain says: {explained.summary()}")
        plot_clip(detector, str(tone), title="Default detector: a 2.45 kHz tone pasted at 0.8-1.3 s",
                  path=DOCS / "explanation.png", dpi=80)  # fmt: skip
        test = read_dataset(Path(root) / "fan" / "test")
        page = build_report(detector, test.paths, table=list(test), top=3, title="fan, section 00: test clips")
        html = write_report(page, Path(root) / "report.html")
        if screenshot(html, DOCS / "report.png", fragment="#sort=score:desc"):
            print(f"wrote {DOCS / 'explanation.png'} and {DOCS / 'report.png'}")


if __name__ == "__main__":
    main()
