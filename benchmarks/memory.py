"""Peak memory of fitting on many long clips and of scoring one very long clip.

One command::

    python benchmarks/memory.py            # 2,000 clips of 10 s and a one-hour file (about 3 minutes on 2 cores)
    python benchmarks/memory.py --quick    # 200 clips and a 10-minute file

The targets (issue 7): fitting the default detector and AudioAE on 2,000 synthetic 10 s clips at
16 kHz stays under 1.5 GB; scoring one one-hour 16 kHz file stays under 500 MB. Each case runs in
a fresh Python process and reports that process's peak resident memory (``ru_maxrss``), imports
included; the memory of a process that only imports the same modules is reported beside it, so
the part that grows with the data is plain. Clips are read from WAV files, as a user's would be.
AudioAE trains for one epoch here: its memory does not grow with epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from common import REPO, peak_rss_mb, run_lines, write_results

TARGETS_MB = {"fit": 1500, "score": 500}
SR = 16000

CASES = {
    # name: (what, detector name, detector settings)
    "fit default": ("fit", "default", {}),
    "fit AudioAE": ("fit", "audio-ae", {"sr": SR, "epoch_num": 1}),
    "score default": ("score", "default", {}),
    "score AudioAE": ("score", "audio-ae", {"sr": SR, "epoch_num": 1}),
}


def make_clips(folder: Path, n_clips: int, duration: float) -> list[str]:
    """Synthetic machine clips in batches of 200 (the generator holds a batch in memory)."""
    from audioad.datasets import make_machine_sounds

    paths = []
    for batch, start in enumerate(range(0, n_clips, 200)):
        table = make_machine_sounds(
            folder / f"batch{batch}",
            machines=("fan",),
            n_sections=1,
            n_train=min(200, n_clips - start),
            n_test_normal=1,
            n_test_anomaly=1,
            duration=duration,
            sr=SR,
            random_state=batch,
        )
        paths += table.filter(split="train").paths
    return paths


def make_long_file(path: Path, seconds: float) -> Path:
    """A long 16 kHz mono int16 WAV of a hum in noise, written a minute at a time."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
        for start in range(0, int(seconds), 60):
            t = np.arange(start * SR, min(seconds, start + 60) * SR) / SR
            hum = 0.3 * np.sin(2 * np.pi * 120 * t) + 0.1 * np.sin(2 * np.pi * 240 * t)
            f.write((hum + 0.05 * rng.standard_normal(len(t))).astype(np.float32))
    return path


def worker(job: dict) -> None:
    """Run one case in this process and print its peak memory as JSON."""
    import audioad

    baseline = peak_rss_mb()
    detector = audioad.make_detector(job["detector"], **job["settings"])
    if job["what"] == "baseline":
        if job["detector"] == "audio-ae":
            import torch  # noqa: F401 - AudioAE imports it when it fits

        print(json.dumps({"peak_mb": peak_rss_mb()}))
        return
    started = time.perf_counter()
    if job["what"] == "fit":
        detector.fit(job["clips"])
    else:
        detector = audioad.load(job["model"])
        scores = detector.decision_function([job["long_file"]])
        assert np.isfinite(scores).all()
    print(
        json.dumps({"peak_mb": peak_rss_mb(), "after_imports_mb": baseline, "seconds": time.perf_counter() - started})
    )


def run(job: dict, script: str = __file__) -> dict:
    """Run ``job`` in a fresh process of ``script --worker`` (this file's, or another benchmark's); its JSON result."""
    # The job goes on stdin: 2,000 paths are too long for a command line.
    result = subprocess.run(
        [sys.executable, script, "--worker"], input=json.dumps(job), capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def peak_cells(job: dict, target_mb: float, script: str = __file__, show_target: bool = False) -> str:
    """Run ``job`` and its imports-only baseline, each in a fresh process; a table row's cells from the peak on.

    ``peak MB | baseline MB | [target MB |] under target | seconds``, or the error and as many empty cells.
    """
    result = run(job, script)
    base = run({**job, "what": "baseline"}, script)
    target = [f"{target_mb:g}"] if show_target else []
    if "error" in result:
        return " | ".join([f"error: {result['error']}"] + [""] * (3 + len(target))) + " |"
    cells = [f"{result['peak_mb']:.0f}", f"{base.get('peak_mb', float('nan')):.0f}", *target]
    cells += ["yes" if result["peak_mb"] < target_mb else "**no**", f"{result['seconds']:.1f}"]
    return " | ".join(cells) + " |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 clips and a 10-minute file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(sys.stdin.read()))
        return 0
    n_clips, long_seconds = (200, 600) if args.quick else (2000, 3600)
    command = "python benchmarks/memory.py" + (" --quick" if args.quick else "")
    load, started = os.getloadavg(), time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"writing {n_clips} clips of 10 s and a {long_seconds // 60}-minute file ...", flush=True)
        clips = make_clips(tmp / "clips", n_clips, 10.0)
        long_file = str(make_long_file(tmp / "long.wav", long_seconds))
        for name, (what, detector, settings) in CASES.items():
            model = tmp / f"{detector}.audioad"
            if what == "score" and not model.exists():
                # The model a scoring case loads: fitted here on a few of the clips.
                import audioad

                audioad.save(audioad.make_detector(detector, **settings).fit(clips[:50]), model)
            job = {
                "what": what,
                "detector": detector,
                "settings": settings,
                "clips": clips,
                "model": str(model),
                "long_file": long_file,
            }
            size = f"{n_clips} clips x 10 s" if what == "fit" else f"one {long_seconds // 60}-minute file"
            rows.append(f"| {name} | {size} | " + peak_cells(job, TARGETS_MB[what], show_target=True))
            print(rows[-1], flush=True)
    section = "\n".join(
        [
            "## Peak memory (`benchmarks/memory.py`)",
            "",
            *run_lines(command, started, load),
            "- peak MB: `ru_maxrss` of a fresh process that fits (or loads a model and scores), imports included;"
            " imports MB: the same process's peak when it only imports what that case imports."
            " AudioAE trains one epoch (memory does not grow with epochs); synthetic clips from"
            " `make_machine_sounds`, read from WAV files.",
            "",
            "| case | data | peak MB | imports MB | target MB | under target | seconds |",
            "|---|---|---:|---:|---:|---|---:|",
            *rows,
        ]
    )
    print("\n" + section)
    if not args.no_write:
        write_results("memory.py", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
