"""Peak memory of fitting on one long recording and of scoring long recordings segment by segment, by format.

One command::

    python benchmarks/long_recordings.py            # 1-hour and 3-hour WAV, FLAC, OGG and MP3
    python benchmarks/long_recordings.py --quick    # 10-minute files

The target (issue 15): scoring a 3-hour file of any format stays under 500 MB. Each case runs in a
fresh Python process (:func:`memory.run`) and reports its peak resident memory, imports included,
beside a process that only imports the same modules. The default detector is fitted once on a
10-minute WAV cut into 10 s segments; "segments" cases call ``score_segments(segment="10s")`` (what
``audioad score --segment 10s`` runs), "whole" cases ``decision_function`` on the file as one clip
(streamed, since long files are recognised by their duration, not their size on disk); "plot" cases
run ``audioad plot MODEL FILE --out x.png`` in the process, which draws a file that long as a recording
(segment scores over time, the worst minute in detail: :func:`audioad.plotting.plot_recording`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from common import peak_rss_mb, run_lines, write_results
from memory import make_long_file, peak_cells

TARGET_MB = 500


def convert(source: Path, target: Path) -> Path:
    """``source`` re-encoded in ``target``'s format (by suffix), a minute at a time."""
    with sf.SoundFile(source) as inp, sf.SoundFile(target, "w", samplerate=inp.samplerate, channels=1) as out:
        for block in inp.blocks(blocksize=60 * inp.samplerate, dtype="float32"):
            out.write(block)
    return target


def worker(job: dict) -> None:
    """Run one case in this process and print its peak memory as JSON (``memory.run`` calls it)."""
    import audioad

    if job["what"] == "baseline":
        # What every case imports and holds before it reads audio: the detectors and the model.
        audioad.load(job["model"])
        print(json.dumps({"peak_mb": peak_rss_mb()}))
        return
    baseline = peak_rss_mb()
    started = time.perf_counter()
    if job["what"] == "fit":
        audioad.default_detector().fit([job["file"]], segment="10s")
        n = None
    else:
        detector = audioad.load(job["model"])
        if job["what"] == "segments":
            result = detector.score_segments([job["file"]], segment="10s")
            n = len(result.rows)
            assert np.isfinite([row.score for row in result.rows]).all()
        elif job["what"] == "plot":
            from audioad.cli import main

            main(["plot", job["model"], job["file"], "--out", job["out"], "--force"], standalone_mode=False)
            n = None
        else:
            n = len(detector.decision_function([job["file"]]))
    print(
        json.dumps(
            {"peak_mb": peak_rss_mb(), "after_imports_mb": baseline, "seconds": time.perf_counter() - started, "n": n}
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10-minute files")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(sys.stdin.read()))
        return 0
    hours = (1 / 6, 1 / 6) if args.quick else (1, 3)
    command = "python benchmarks/long_recordings.py" + (" --quick" if args.quick else "")
    load, started = os.getloadavg(), time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train = make_long_file(tmp / "train.wav", 600)
        model = tmp / "default.audioad"
        import audioad

        audioad.save(audioad.default_detector().fit([str(train)], segment="10s"), model)
        wav = make_long_file(tmp / "long.wav", hours[0] * 3600)
        longest = make_long_file(tmp / "longest.wav", hours[1] * 3600)
        files = {
            "WAV": wav,
            "FLAC": convert(wav, tmp / "long.flac"),
            "OGG": convert(wav, tmp / "long.ogg"),
            "MP3": convert(wav, tmp / "long.mp3"),
            "WAV ": longest,
            "FLAC ": convert(longest, tmp / "longest.flac"),
            "OGG ": convert(longest, tmp / "longest.ogg"),
            "MP3 ": convert(longest, tmp / "longest.mp3"),
        }
        cases = [("fit, --segment 10s", "fit", train, "WAV")]
        cases += [(f"score, segments of 10 s, {fmt.strip()}", "segments", path, fmt) for fmt, path in files.items()]
        cases += [("score, whole file (streamed)", "whole", files["FLAC"], "FLAC")]
        plotted = {"WAV": longest, "FLAC": files["FLAC "], "OGG": files["OGG "], "MP3": files["MP3 "]}
        cases += [(f"plot (recording view), {fmt}", "plot", path, fmt) for fmt, path in plotted.items()]
        for name, what, path, fmt in cases:
            job = {"what": what, "file": str(path), "model": str(model), "out": str(tmp / "plot.png")}
            minutes = sf.info(str(path)).duration / 60
            size = f"{minutes:.0f} min {fmt.strip()}, {os.path.getsize(path) / 2**20:.0f} MB on disk"
            rows.append(f"| {name} | {size} | " + peak_cells(job, TARGET_MB, __file__))
            print(rows[-1], flush=True)
    section = "\n".join(
        [
            "## Long recordings: peak memory by format (`benchmarks/long_recordings.py`)",
            "",
            *run_lines(command, started, load),
            "- peak MB: peak resident memory of a fresh process that loads the model and scores (or fits), imports"
            " included; model MB: the same process's peak when it only loads the model (the detectors' imports)."
            " A plot case also imports matplotlib and writes the PNG (`audioad plot`, run in the process)."
            " The default detector,"
            " fitted on a 10-minute 16 kHz WAV cut into 10 s segments; the files are a 16 kHz hum in noise."
            f" Target: under {TARGET_MB} MB for a 3-hour file of any format.",
            "",
            "| case | file | peak MB | model MB | under 500 MB | seconds |",
            "|---|---|---:|---:|---|---:|",
            *rows,
        ]
    )
    print("\n" + section)
    if not args.no_write:
        write_results("long_recordings.py", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
