"""What every benchmark script shares: the checkout on sys.path, the machine, versions, RESULTS.md sections."""

from __future__ import annotations

import datetime
import fcntl
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
if str(SRC) not in sys.path:
    # Benchmark this checkout, whatever audioad the interpreter has installed.
    sys.path.insert(0, str(SRC))

DEFAULT_DATA = REPO.parent / "shared" / "data"
RESULTS_PATH = REPO / "benchmarks" / "RESULTS.md"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux's ``VmHWM`` where there is one: ``ru_maxrss`` keeps the peak of the parent that
    forked this process, so a small child of a large parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(load=None) -> str:
    """Platform, CPU, usable cores, RAM and the load average (1, 5, 15 min) the run started with."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        ram = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        ram = "RAM unknown"
    busy = "; load average {:.1f} {:.1f} {:.1f} when the run started".format(*load) if load else ""
    return f"{platform.platform()}; {cpu}; {usable} usable of {os.cpu_count()} CPUs; {ram}{busy}"


def versions() -> str:
    """Versions of Python, the libraries that matter and audioad (with its commit)."""
    from importlib.metadata import PackageNotFoundError, version

    found = [f"python {platform.python_version()}"]
    for package in ("numpy", "scipy", "scikit-learn", "torch", "librosa", "pyod"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} not installed")
    import audioad

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    at = ""
    if commit.returncode == 0:
        # Read-only: `git diff` takes no lock, unlike `git status`.
        changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src"], cwd=REPO, capture_output=True)
        at = f" (commit {commit.stdout.strip()}{', with uncommitted changes in src/' if changed.returncode else ''})"
    found.append(f"audioad {audioad.__version__}{at}")
    return ", ".join(found)


def run_lines(command: str, started: float, load=None) -> list:
    """The lines a RESULTS.md section opens with: date, the command and how long it took, machine, versions.

    ``started`` is the run's ``time.perf_counter()`` at its start; ``load`` the load average then.
    """
    seconds = time.perf_counter() - started
    took = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}` ({took})",
        f"- machine: {machine(load)}",
        f"- versions: {versions()}",
    ]


def fastest(function, repeats):
    """The shortest wall time of ``repeats`` calls of ``function``, and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def default_before_issue_22():
    """The default detector as it was before issue 22 added its event view (unfitted), to compare against."""
    from audioad.detectors.ensemble import Ensemble
    from audioad.detectors.knn import MelKNN
    from audioad.detectors.window_knn import WindowKNN

    return Ensemble(
        [MelKNN(pooling="mean", metric="mahalanobis"), MelKNN(pooling="delta_std", metric="mahalanobis")],
        combine="max",
        frame_detector=WindowKNN(context=5, window_hop=2, max_windows=2048),
    )


def write_results(script: str, section: str, path: Path = RESULTS_PATH) -> None:
    """Replace the section of RESULTS.md between ``script``'s markers (or append it)."""
    start_marker, end_marker = f"<!-- {script}:start -->", f"<!-- {script}:end -->"
    block = f"{start_marker}\n{section.strip()}\n{end_marker}\n"
    # Benchmarks may run side by side: one writer at a time reads, edits and writes the file.
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _replace_section(path, block, start_marker, end_marker)


def _replace_section(path, block, start_marker, end_marker):
    if path.exists():
        text = path.read_text()
        start, end = text.find(start_marker), text.find(end_marker)
        if start != -1 and end > start:
            text = text[:start] + block + text[end + len(end_marker) :].lstrip("\n")
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = (
            "# Benchmark results\n\n"
            "Written by the scripts in `benchmarks/` (see benchmarks/README.md); each script owns the "
            "section between its markers. Do not edit the numbers by hand: rerun the script.\n\n" + block
        )
    path.write_text(text)
