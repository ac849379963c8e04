"""CPU use and latency of `audioad watch` on one real-time 16 kHz stream.

One command::

    python benchmarks/watch.py            # 5 minutes of stream (about 6 minutes)
    python benchmarks/watch.py --quick    # 1 minute

The default detector is fitted on 10 minutes of a hum in noise cut into 10 s segments; then
``audioad watch MODEL - --format s16le`` runs in its own process, fed 16-bit PCM on its standard
input in real time, a quarter of a second every quarter of a second, as ``arecord`` would. Goals
(issue 15): under 5 % of one core, under 1 s from a segment's end to its row.

- CPU: the watch process's user + system time while it streams (from its first row to the end,
  so start-up and the model's loading are left out), over the wall time, in % of one core.
- Latency: for each segment, from the moment its last sample was written to the pipe to the
  ``scored_at`` time of its row (the same clock; the row is flushed to the file by then).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from common import REPO, run_lines, write_results
from memory import make_long_file

SR = 16000
BLOCK_SECONDS = 0.25
SEGMENT_SECONDS = 10


def stream_audio(seconds: float) -> np.ndarray:
    """The stream's 16-bit samples: the hum the model learnt, in noise (the tail of a fresh recording)."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        path = make_long_file(Path(tmp) / "stream.wav", seconds + 60)
        return sf.read(path, dtype="int16")[0][SR * 60 :]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 minute of stream")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    minutes = 1 if args.quick else 5
    command = "python benchmarks/watch.py" + (" --quick" if args.quick else "")
    load, started = os.getloadavg(), time.perf_counter()
    import audioad

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train = make_long_file(tmp / "train.wav", 600)
        model = tmp / "default.audioad"
        audioad.save(audioad.default_detector().fit([str(train)], segment=f"{SEGMENT_SECONDS}s"), model)
        samples = stream_audio(minutes * 60)
        out = tmp / "watch.csv"
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
        watch = subprocess.Popen(
            [sys.executable, "-m", "audioad", "watch", str(model), "-", "--format", "s16le", "--out", str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        process = psutil.Process(watch.pid)
        block = int(BLOCK_SECONDS * SR)
        written_at = {}  # segment index -> when its last sample went into the pipe
        cpu_start = wall_start = None
        began = time.time()
        for i, start in enumerate(range(0, len(samples), block)):
            # Real time: block i is sent once the recorder would have it.
            time.sleep(max(0.0, began + (i + 1) * BLOCK_SECONDS - time.time()))
            watch.stdin.write(samples[start : start + block].tobytes())
            watch.stdin.flush()
            end = start + block
            if end % (SEGMENT_SECONDS * SR) == 0:
                written_at[end // (SEGMENT_SECONDS * SR) - 1] = time.time()
                if cpu_start is None:
                    # From the first row on: start-up and the model's loading are done by then.
                    deadline = time.time() + 60
                    while time.time() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 2):
                        time.sleep(0.05)
                    times = process.cpu_times()
                    cpu_start, wall_start = times.user + times.system, time.time()
        times = process.cpu_times()
        cpu_end, wall_end = times.user + times.system, time.time()
        watch.stdin.close()
        watch.wait(timeout=120)
        with open(out, newline="") as f:
            table = list(csv.DictReader(f))
        latencies = []
        for index, row in enumerate(table):
            # The first segment waits for start-up (imports, the model): not a steady-state latency.
            if index in written_at and index > 0:
                scored = datetime.datetime.fromisoformat(row["scored_at"]).timestamp()
                latencies.append(scored - written_at[index])
        cpu_percent = 100 * (cpu_end - cpu_start) / (wall_end - wall_start)
    latencies = np.array(latencies)
    rows = [
        f"| one 16 kHz stream, default detector, {SEGMENT_SECONDS} s segments | {minutes} min | {cpu_percent:.1f} "
        f"| {np.median(latencies):.2f} | {latencies.max():.2f} | {len(latencies)} |"
    ]
    section = "\n".join(
        [
            "## Watching a stream (`benchmarks/watch.py`)",
            "",
            *run_lines(command, started, load),
            "- `audioad watch MODEL - --format s16le` fed 16-bit PCM in real time (0.25 s blocks); CPU: the watch"
            " process's user + system time from its first row to the end over the wall time (% of one core);"
            " latency: from a segment's last sample into the pipe to its row's `scored_at` (the first segment, which"
            " waits for start-up, left out). Goals: < 5 % of a"
            " core, < 1 s.",
            "",
            "| case | stream | CPU % of one core | latency median s | latency max s | segments |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print("\n" + section)
    if not args.no_write:
        write_results("watch.py", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
