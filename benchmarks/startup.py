"""Start-up of the `audioad` command and of `import audioad`: wall time and peak memory.

One command::

    python benchmarks/startup.py            # about half a minute on 2 cores
    python benchmarks/startup.py --src DIR  # another source tree (an older commit: git archive), printed only

The target (issue 17): `audioad --help`, `audioad info --detectors` and `audioad info MODEL` answer in
under 0.5 s. Each case runs as a fresh process, ``--runs`` times (default 5); the table gives the
median and the fastest wall time, and the peak resident memory (``ru_maxrss`` from ``wait4``) of the
median run. The commands run as ``python -m audioad`` with this checkout's ``src`` first on
``PYTHONPATH``, which is what the installed ``audioad`` script runs. ``python -c pass`` is the
interpreter's own floor. The model file for ``info`` is a default detector fitted on 8 short noise
clips, made in a separate process: on Linux a child's ``ru_maxrss`` starts at its parent's, so this
script keeps itself small (it imports nothing heavy) while it measures. The section ends with the
slowest imports under ``python -X importtime -c "import audioad.cli"`` (cumulative).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SRC, run_lines, write_results

TARGET_S = 0.5

MAKE_MODEL = """
import sys
import numpy as np
from audioad import default_detector, save
rng = np.random.default_rng(0)
clips = [(0.1 * rng.standard_normal(8000).astype(np.float32), 16000) for _ in range(8)]
save(default_detector().fit(clips, progress=False), sys.argv[1])
"""


def run_once(argv, env):
    """Wall seconds and peak resident MB of one fresh process running ``argv``."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {process.stderr.read().decode()[-500:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def measure(argv, env, runs):
    results = sorted(run_once(argv, env) for _ in range(runs))
    seconds = [s for s, _ in results]
    return statistics.median(seconds), seconds[0], results[len(results) // 2][1]


def import_offenders(env, top):
    """The ``top`` imports with the largest cumulative time under ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import audioad.cli"], capture_output=True, text=True, env=env
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), int(own), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per case (default 5)")
    parser.add_argument("--src", type=Path, default=SRC, help="source tree to import audioad from (printed only)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    write = not args.no_write and args.src.resolve() == SRC.resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(args.src), os.environ.get("PYTHONPATH")]))}
    load, started = os.getloadavg(), time.perf_counter()
    python = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "default.audioad"
        subprocess.run([*python, "-c", MAKE_MODEL, str(model)], check=True, env=env)
        cases = {
            "`python -c pass` (the interpreter alone)": [*python, "-c", "pass"],
            '`python -c "import audioad"`': [*python, "-c", "import audioad"],
            "`audioad --help`": [*python, "-m", "audioad", "--help"],
            "`audioad info --detectors`": [*python, "-m", "audioad", "info", "--detectors"],
            "`audioad info MODEL` (a default detector's file)": [*python, "-m", "audioad", "info", str(model)],
        }
        rows = []
        for name, command in cases.items():
            median, fastest, peak = measure(command, env, args.runs)
            target = "" if "pass" in name else ("yes" if median < TARGET_S else "**no**")
            rows.append(f"| {name} | {median:.3f} | {fastest:.3f} | {peak:.0f} | {target} |")
            print(rows[-1], flush=True)
    offenders = import_offenders(env, 10)
    section = "\n".join(
        [
            "## Start-up (`benchmarks/startup.py`)",
            "",
            *run_lines("python benchmarks/startup.py", started, load),
            f"- each case: {args.runs} fresh processes, `python -m audioad` with this checkout's `src` on"
            " `PYTHONPATH`; peak MB: `ru_maxrss` of the median run, imports included.",
            "",
            f"| case | median s | fastest s | peak MB | under {TARGET_S} s |",
            "|---|---:|---:|---:|---|",
            *rows,
            "",
            'Slowest imports of `python -X importtime -c "import audioad.cli"` (cumulative, one run):',
            "",
            "| module | cumulative ms | own ms |",
            "|---|---:|---:|",
            *(f"| `{name}` | {cumulative / 1000:.1f} | {own / 1000:.1f} |" for cumulative, own, name in offenders),
        ]
    )
    print("\n" + section)
    if write:
        write_results("startup.py", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
