"""audioad's detectors against PyOD 3.6.7's audio detectors on the development sets.

One command::

    python benchmarks/run.py                 # every set and the domain shift: 35 minutes on 2 busy cores
    python benchmarks/run.py --quick         # 1 generator seed, fewer detectors and sets, 10 epochs: about 4 minutes
    python benchmarks/run.py --domain-shift  # the domain-shift part alone

On each development set of ``devsets.py`` (the shared recordings of ``../shared/data`` and the
``make_machine_sounds`` variants), split by recording and by time in both directions (issue 22's
protocol: see ``devsets.py``), every detector sees the same clips in the same run, is fitted as
``audioad evaluate`` fits it (on the training clips, without ``groups``, so the default's held-out
folds are consecutive runs of training clips: see ``group_folds.py`` for why), and is
scored by AUC and pAUC (max_fpr 0.1), its false-alarm and detection rates at its own
``threshold_``, fit and score seconds, and the peak memory of its process. Under each table: the
default detector's regret (the best audioad AUC on the set minus the default's) and the best PyOD
detector; for the default and PyOD's AudioAE, the minimum detectable level of short events added
to the normal test clips (``injections.py``). The run ends with the domain shift (one section
trained on 990 source and 10 target clips, AUC per domain) and two summary tables. Everything is
printed and written to ``benchmarks/RESULTS.md`` between the ``run.py`` markers (other benchmark
scripts own other sections of that file). Without ``../shared/data`` only the synthetic sets run,
and the output says so.

How a run works: the parent process decodes each dataset once into a cache of arrays and fixes
every split (``devsets.prepare``). Each (dataset, detector) pair then runs in a
fresh Python process, one at a time, which loads the cached clips, fits and scores every split,
and reports its scores, thresholds, times and peak resident memory (``ru_maxrss``), so one
detector's memory cannot show up in another's; the processes are forked from a small fork server
(see :func:`process_context`). The parent computes the metrics. Only the public API is used
(``fit``, ``decision_function``, ``threshold_``, ``contamination``), so any default detector runs.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import resource
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, RESULTS_PATH, run_lines, write_results
from devsets import DATASETS, DEV_SETS, REAL_DATASETS, SR, load_clips, prepare, save_clips
from injections import EVENT_NAMES, EVENT_SECONDS, EVENTS, inject

MAX_FPR = 0.1
# The synthetic sets' generator seeds (each a new set of machines, each split both ways); the real
# sets have their recordings and are split both ways, whatever the seeds.
SEEDS = (0, 1, 2)
QUICK_SEEDS = (0,)
EPOCHS = 40  # PyOD AudioAE's default
QUICK_EPOCHS = 10

DEFAULT = "audioad default_detector"
BASELINE = "PyOD AudioAE"  # the other detector of the minimum detectable level and of the domain shift
REGRET_GOAL = 0.01

# Minimum detectable level: the events of injections.py added to the normal test clips at these
# in-band levels (dB), for DEFAULT and BASELINE, refitted on the first split(s) of each set (the
# earlier→later direction of the first seed: the way a user meets it).
LEVELS = (-10, -5, 0, 5, 10, 15, 20, 30)
DETECTED = 0.9  # the share of injected clips that threshold_ must flag
INJECTION_SPLITS = 1  # how many of a set's splits (its first) the injections use

# Domain shift (DCASE 2021-2025): one section trained on many source and few target clips.
DOMAIN_SHIFT = dict(machines=("fan",), n_sections=1, duration=1.0, sr=16000)
DOMAIN_TRAIN, DOMAIN_TARGET_FRACTION = 1000, 0.01
DOMAIN_TEST = 50  # normal and as many anomalous test clips, half of each in the target domain
DOMAIN_SEEDS = (0, 1)

# Placeholders in a detector's arguments, replaced in each run.
SEED = "<seed>"
EPOCH_NUM = "<epoch_num>"


# ---------------------------------------------------------------- detectors


@dataclass(frozen=True)
class Detector:
    """How to build one detector: ``target`` is ``'module:attribute[.attribute]'``, called with
    ``args`` and ``kwargs`` (where :data:`SEED` and :data:`EPOCH_NUM` are replaced per run)."""

    name: str
    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    quick: bool = False  # part of the --quick set
    torch: bool = False  # imported before timing, so that no fit time is torch's import

    def build(self, seed: int, epoch_num: int):
        module_name, _, attributes = self.target.partition(":")
        factory = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            factory = getattr(factory, attribute)
        values = {SEED: seed, EPOCH_NUM: epoch_num}
        kwargs = {
            key: values.get(value, value) if isinstance(value, str) else value for key, value in self.kwargs.items()
        }
        return factory(*self.args, **kwargs)


def detector(name, target, *args, quick=False, torch=False, **kwargs) -> Detector:
    return Detector(name, target, args, kwargs, quick, torch)


# One line a detector. Entries whose module does not import (not written yet, or broken) are
# reported as skipped, so a new detector appears here before its file exists.
DETECTORS = [
    detector("audioad default_detector", "audioad.detectors.ensemble:default_detector", quick=True),
    detector("audioad MelKNN", "audioad.detectors.knn:MelKNN"),
    # the default's two views alone, so that its regret counts them
    detector("audioad MelKNN mahalanobis", "audioad.detectors.knn:MelKNN", metric="mahalanobis"),
    detector(
        "audioad MelKNN delta_std mahalanobis",
        "audioad.detectors.knn:MelKNN",
        pooling="delta_std",
        metric="mahalanobis",
    ),
    detector("audioad MelMahalanobis", "audioad.detectors.mahalanobis:MelMahalanobis"),
    detector("audioad MelGMM", "audioad.detectors.gmm:MelGMM"),
    detector("audioad WindowKNN", "audioad.detectors.window_knn:WindowKNN", context=5),
    detector("audioad IDNN", "audioad.detectors.idnn:IDNN", torch=True),
    detector(
        "audioad AudioAE", "audioad.detectors.autoencoder:AudioAE", sr=SR, epoch_num=EPOCH_NUM, quick=True, torch=True
    ),
    detector(
        "audioad EmbeddingOD fast",
        "audioad.detectors.embedding:EmbeddingOD.for_audio",
        "fast",
        random_state=SEED,
        quick=True,
    ),
    detector(
        "audioad EmbeddingOD balanced",
        "audioad.detectors.embedding:EmbeddingOD.for_audio",
        "balanced",
        random_state=SEED,
        quick=True,
    ),
    detector("PyOD AudioAE", "pyod.models.audio_ae:AudioAE", sr=SR, epoch_num=EPOCH_NUM, quick=True, torch=True),
    detector(
        "PyOD EmbeddingOD fast", "pyod.models.embedding:EmbeddingOD.for_audio", "fast", random_state=SEED, quick=True
    ),
    detector(
        "PyOD EmbeddingOD balanced",
        "pyod.models.embedding:EmbeddingOD.for_audio",
        "balanced",
        random_state=SEED,
        quick=True,
    ),
]
REGISTRY = {d.name: d for d in DETECTORS}


def importable(spec: Detector) -> str | None:
    """None if the detector's factory imports, else why not."""
    module_name, _, attributes = spec.target.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            obj = getattr(obj, attribute)
    except Exception as error:  # a file mid-edit can fail in any way
        return f"{type(error).__name__}: {first_line(error)}"
    return None


def first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------- datasets

# fan's 5 s clips make it (and fan-drift) the slowest real sets, so --quick leaves them out, with
# the 10 s synthetic sets.
QUICK_DATASETS = ("bldc_motor", "paper_machine", "synthetic", "stationary-1s-48k", "fluctuation-2s-16k")

# What the full run leaves out to stay within an hour (35 minutes at a load average of 7-12) on a
# machine shared with four other people's work (a run naming its seeds or detectors runs them all):
# `synthetic` gets generator seeds 0-1 and the variants seed 0 (each split both ways); no set runs
# audioad's torch detectors (IDNN, AudioAE: never the best audioad detector on any set, 20-30 s a
# split on the 10 s sets; audioad's AudioAE gives PyOD's AUC, which runs); the synthetic sets go
# without PyOD's two EmbeddingOD presets (their AUC equals audioad's EmbeddingOD's, which run: the
# same descriptors and detectors, see the shared sets' tables); the domain shift gets seed 0.
SYNTHETIC = tuple(name for name, s in DEV_SETS.items() if not s.real)
FULL_RUN_SEEDS = {name: (0,) if name != "synthetic" else (0, 1) for name in SYNTHETIC}
_PYOD_TWINS = ("PyOD EmbeddingOD fast", "PyOD EmbeddingOD balanced")
_TORCH = ("audioad IDNN", "audioad AudioAE")
FULL_RUN_WITHOUT = {name: _TORCH + (_PYOD_TWINS if name in SYNTHETIC else ()) for name in DEV_SETS}
FULL_RUN_DOMAIN_SEEDS = (0,)


# ---------------------------------------------------------------- worker (one process per run)

# Imported by both libraries' detectors (audioad's base class is PyOD's), so a worker forked with
# them already imported carries nothing it would not have imported itself, and starts in
# milliseconds instead of seconds.
FORKSERVER_PRELOAD = ["numpy", "pyod.models.base"]


def worker(job: dict) -> None:
    """Fit and score one detector on one dataset for every split; write scores, thresholds, times, peak RSS.

    With ``job["inject"]``, the detector is then fitted again on those splits and scores its normal
    test clips with each event of :mod:`injections` added at each level (after the peak memory and
    CPU time of the table are read, so that neither counts the injections).
    """
    with open(job["log"], "w") as log:
        # Progress bars and warnings go to the job's log, not between the tables.
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    spec = REGISTRY[job["detector"]]
    if spec.torch:
        import torch  # imported before timing, so that no fit pays for it

        if job["torch_threads"]:
            torch.set_num_threads(job["torch_threads"])
    clips = ClipCache(job["cache"])
    runs = []
    for split in job["splits"]:
        entry = job["plan"][split]
        run = {"split": split, "fit_s": 0.0, "score_s": 0.0, "scores": [], "thresholds": []}
        try:
            for section in entry["sections"]:
                loaded = clips.get(entry)
                model = spec.build(entry["seed"], job["epoch_num"])
                train = [loaded[i] for i in section["train"]]
                test = [loaded[i] for i in section["test"]]
                start = time.perf_counter()
                fit_model(model, train, section)
                run["fit_s"] += time.perf_counter() - start
                start = time.perf_counter()
                scores = model.decision_function(test)
                run["score_s"] += time.perf_counter() - start
                run["scores"].append(np.asarray(scores, dtype=float).tolist())
                run["thresholds"].append(float(model.threshold_))
                model = None
        except Exception as error:
            run = {"split": split, "error": f"{type(error).__name__}: {first_line(error)}"}
        runs.append(run)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere
    result = {"runs": runs, "peak_mb": peak_mb, "cpu_s": usage.ru_utime + usage.ru_stime}
    if job.get("inject"):
        start = time.perf_counter()
        try:
            result["injections"] = injection_run(spec, job, clips)
        except Exception as error:
            result["injections"] = {"error": f"{type(error).__name__}: {first_line(error)}"}
        usage_after = resource.getrusage(resource.RUSAGE_SELF)
        result["injections"]["wall_s"] = time.perf_counter() - start
        result["injections"]["cpu_s"] = usage_after.ru_utime + usage_after.ru_stime - result["cpu_s"]
    Path(job["out"]).write_text(json.dumps(result))


class ClipCache:
    """The clips of one plan entry at a time (one clip file in memory at a time)."""

    def __init__(self, cache):
        self.cache, self.key, self.clips = cache, None, None

    def get(self, entry):
        if entry["clips"] != self.key:
            self.clips = None  # freed before the next file is read
            self.clips = load_clips(self.cache, entry["clips"], entry["sr"])
            self.key = entry["clips"]
        return self.clips


def fit_model(model, train, section):
    """``model.fit(train)``, with the training clips' domains where the section has them (the domain
    shift) and fit takes them. No ``groups``: as ``audioad evaluate`` and ``audioad fit`` fit it, the
    default holds out consecutive runs of training clips for its held-out scores and ``threshold_``
    (folds of whole recordings did worse on the shared sets: ``group_folds.py``)."""
    parameters = inspect.signature(model.fit).parameters
    extra = {"domains": section["train_domains"]} if "train_domains" in section and "domains" in parameters else {}
    return model.fit(train, **extra)


def injection_run(spec, job, clips) -> dict:
    """Refit on each injection split's sections; count the normal test clips flagged, as they are and injected.

    Returns ``normal`` ([flagged, count] of the clips as they are), ``contamination`` and, per
    event, ``[flagged, count]`` at each of ``levels``, all summed over splits and sections.
    """
    levels = job["inject"]["levels"]
    out = {"normal": [0, 0], "levels": levels, "events": {e: [[0, 0] for _ in levels] for e in job["inject"]["events"]}}
    for split in job["inject"]["splits"]:
        entry = job["plan"][split]
        for section in entry["sections"]:
            loaded = clips.get(entry)
            model = spec.build(entry["seed"], job["epoch_num"])
            fit_model(model, [loaded[i] for i in section["train"]], section)
            threshold = model.threshold_
            out["contamination"] = float(getattr(model, "contamination", np.nan))
            normals = [loaded[i] for i, label in zip(section["test"], section["y"]) if label == 0]
            flagged = np.asarray(model.decision_function(normals)) > threshold
            out["normal"] = [out["normal"][0] + int(flagged.sum()), out["normal"][1] + len(normals)]
            for event, counts in out["events"].items():
                injected = [
                    (inject(wave, sr, event, level, seed=k), sr)
                    for level in levels
                    for k, (wave, sr) in enumerate(normals)
                ]
                flagged = np.asarray(model.decision_function(injected)).reshape(len(levels), len(normals)) > threshold
                for count, row in zip(counts, flagged):
                    count[0] += int(row.sum())
                    count[1] += len(row)
            model = None
    return out


def process_context():
    """A fork server where there is one, else spawn.

    Not plain spawn or subprocess: on Linux a process started by fork+exec inherits its parent's
    peak resident memory (the kernel carries the high-water mark over exec), so every worker's
    ``ru_maxrss`` would read at least the parent's, which holds the decoded datasets. A child
    forked from the small fork server starts its count from the server's own size.
    """
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(FORKSERVER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def run_worker(context, job: dict, work: Path, timeout: float) -> dict:
    job = dict(job, out=str(work / "result.json"), log=str(work / "worker.log"))
    Path(job["out"]).unlink(missing_ok=True)
    process = context.Process(target=worker, args=(job,))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        process.join()
        return {"error": f"timed out after {timeout:.0f} s"}
    if process.exitcode != 0 or not Path(job["out"]).exists():
        log = Path(job["log"]).read_text(errors="replace") if Path(job["log"]).exists() else ""
        lines = [line for line in log.strip().splitlines() if line.strip()]
        return {"error": f"worker exited with code {process.exitcode}: {lines[-1] if lines else 'no message'}"}
    return json.loads(Path(job["out"]).read_text())


# ---------------------------------------------------------------- metrics and tables


def summarise(result: dict, plan: dict) -> dict:
    """AUC and pAUC (mean, std over splits; AUC also per direction), FAR and detection at threshold_
    (mean over splits), median seconds over splits, peak MB, or an error."""
    from audioad.metrics import auc, pauc

    if "error" in result:
        return {"error": result["error"]}
    aucs, paucs, fars, detections, fits, scores, errors = [], [], [], [], [], [], []
    per_direction = {}
    for run in result["runs"]:
        if "error" in run:
            errors.append(run["error"])
            continue
        sections = plan[run["split"]]["sections"]
        try:
            aucs.append(np.mean([auc(s["y"], v) for s, v in zip(sections, run["scores"])]))
            paucs.append(np.mean([pauc(s["y"], v, max_fpr=MAX_FPR) for s, v in zip(sections, run["scores"])]))
        except ValueError as error:
            errors.append(f"ValueError: {first_line(error)}")
            continue
        per_direction.setdefault(plan[run["split"]]["direction"], []).append(aucs[-1])
        far, detection = alarm_rates(sections, run["scores"], run["thresholds"])
        fars.append(far)
        detections.append(detection)
        fits.append(run["fit_s"])
        scores.append(run["score_s"])
    row = {"peak_mb": result["peak_mb"], "n_ok": len(aucs), "n_runs": len(result["runs"])}
    if not aucs:
        return {**row, "error": errors[0]}
    ddof = 1 if len(aucs) > 1 else 0
    row.update(
        auc=float(np.mean(aucs)),
        auc_std=float(np.std(aucs, ddof=ddof)),
        auc_by_direction={direction: float(np.mean(values)) for direction, values in per_direction.items()},
        pauc=float(np.mean(paucs)),
        pauc_std=float(np.std(paucs, ddof=ddof)),
        far=float(np.mean(fars)),
        detection=float(np.mean(detections)),
        fit_s=float(np.median(fits)),
        score_s=float(np.median(scores)),
        partial_error=errors[0] if errors else None,
    )
    return row


def alarm_rates(sections, scores, thresholds) -> tuple[float, float]:
    """Shares of the normal and of the anomalous test clips (all sections) scored above their section's threshold_."""
    flagged = [np.asarray(v) > t for v, t in zip(scores, thresholds)]
    labels = [np.asarray(s["y"]) for s in sections]
    normal = np.concatenate([f[y == 0] for f, y in zip(flagged, labels)])
    anomalous = np.concatenate([f[y == 1] for f, y in zip(flagged, labels)])
    return float(normal.mean()) if normal.size else np.nan, float(anomalous.mean()) if anomalous.size else np.nan


def table(dataset: str, rows: dict) -> str:
    ok = sorted((r for r in rows.items() if "error" not in r[1]), key=lambda r: (-r[1]["auc"], -r[1]["pauc"]))
    failed = [r for r in rows.items() if "error" in r[1]]
    directions = list(dict.fromkeys(d for _, r in ok for d in r["auc_by_direction"]))
    lines = [
        "| detector | AUC mean ± std | AUC " + " / ".join(directions) + " | pAUC mean ± std | FAR at threshold_ "
        "| detection at threshold_ | fit s | score s | peak MB | notes |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in ok:
        notes = []
        if dataset == "paper_machine" and r["auc"] < 0.5:
            notes.append("measures level (AUC < 0.5)")
        if r["partial_error"]:
            notes.append(f"{r['n_runs'] - r['n_ok']} of {r['n_runs']} splits failed: {r['partial_error']}")
        by_direction = " / ".join(
            f"{r['auc_by_direction'][d]:.3f}" if d in r["auc_by_direction"] else "-" for d in directions
        )
        lines.append(
            f"| {name} | {r['auc']:.3f} ± {r['auc_std']:.3f} | {by_direction} "
            f"| {r['pauc']:.3f} ± {r['pauc_std']:.3f} "
            f"| {r['far']:.2f} | {r['detection']:.2f} | {r['fit_s']:.2f} | {r['score_s']:.2f} | {r['peak_mb']:.0f} "
            f"| {'; '.join(notes)} |"
        )
    for name, r in failed:
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-"
        message = r["error"].replace("|", "/")
        lines.append(f"| {name} | error: {message} | | | | | | | {peak} | |")
    regret = regret_of(rows)
    if regret:
        lines += ["", regret_line(regret)]
    return "\n".join(lines)


def regret_of(rows: dict) -> dict | None:
    """The default's AUC, the best audioad detector's and the best PyOD detector's (name, AUC); None
    without a default row."""
    ok = {name: r["auc"] for name, r in rows.items() if "error" not in r}
    if DEFAULT not in ok:
        return None
    audioad = max((n for n in ok if n.startswith("audioad ")), key=lambda n: (ok[n], n == DEFAULT))
    pyod = max((n for n in ok if n.startswith("PyOD ")), key=ok.get, default=None)
    return {
        "default": ok[DEFAULT],
        "default_rates": (rows[DEFAULT]["far"], rows[DEFAULT]["detection"]),
        "default_by_direction": rows[DEFAULT]["auc_by_direction"],
        "best": (audioad, ok[audioad]),
        "regret": ok[audioad] - ok[DEFAULT],
        "pyod": (pyod, ok[pyod]) if pyod else None,
    }


def regret_line(r: dict) -> str:
    line = f"default regret {r['regret']:.3f} AUC (best: {r['best'][0]} {r['best'][1]:.3f})"
    if r["pyod"]:
        name, value = r["pyod"]
        line += f"; best PyOD: {name} {value:.3f} (default − best PyOD = {r['default'] - value:+.3f})"
    return line


def goal_met(r: dict) -> str:
    misses = []
    if r["regret"] > REGRET_GOAL:
        misses.append(f"regret {r['regret']:.3f} > {REGRET_GOAL}")
    if r["pyod"] and r["default"] < r["pyod"][1]:
        misses.append(f"{r['pyod'][1] - r['default']:.3f} below PyOD")
    return "yes" if not misses else "no: " + ", ".join(misses)


def summary_table(regrets: dict) -> str:
    """One row per dataset: the default against the best audioad and the best PyOD detector."""
    lines = [
        "| dataset | default AUC (per direction) | best audioad detector | regret | best PyOD detector "
        "| default − best PyOD | default's FAR / detection at threshold_ "
        f"| goal (regret ≤ {REGRET_GOAL}, default ≥ PyOD) |",
        "|---|---:|---|---:|---|---:|---:|---|",
    ]
    for dataset, r in regrets.items():
        if r is None:
            lines.append(f"| {dataset} | default not run or failed | | | | | | |")
            continue
        directions = " / ".join(f"{value:.3f}" for value in r["default_by_direction"].values())
        pyod = f"{r['pyod'][0]} {r['pyod'][1]:.3f}" if r["pyod"] else "-"
        margin = f"{r['default'] - r['pyod'][1]:+.3f}" if r["pyod"] else "-"
        lines.append(
            f"| {dataset} | {r['default']:.3f} ({directions}) | {r['best'][0]} {r['best'][1]:.3f} | {r['regret']:.3f} "
            f"| {pyod} | {margin} | {r['default_rates'][0]:.2f} / {r['default_rates'][1]:.2f} | {goal_met(r)} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- minimum detectable level


def allowed_far(contamination: float, n: int) -> float:
    """The most false alarms ``threshold_`` may raise on ``n`` new normal clips: ``contamination``
    plus two binomial standard errors."""
    return contamination + 2 * np.sqrt(contamination * (1 - contamination) / max(n, 1))


def minimum_level(rates, levels):
    """The lowest level from which on every level's detection rate is at least :data:`DETECTED`, or None."""
    found = None
    for level, rate in reversed(list(zip(levels, rates))):
        if rate < DETECTED:
            break
        found = level
    return found


def detectable(injections: dict) -> dict:
    """Per event: detection rates at each level, the minimum detectable level and whether FAR allows it."""
    flagged, n = injections["normal"]
    far = flagged / n if n else np.nan
    limit = allowed_far(injections["contamination"], n)
    events = {}
    for event, counts in injections["events"].items():
        rates = [f / c if c else np.nan for f, c in counts]
        events[event] = {"rates": rates, "level": minimum_level(rates, injections["levels"])}
    return {"far": far, "n": n, "allowed": limit, "far_ok": bool(far <= limit), "events": events}


def level_text(found, far_ok=True, far=None, allowed=None) -> str:
    if found is None:
        text = f"> {LEVELS[-1]:+d} dB"
    else:
        text = f"≤ {found:+d} dB" if found == LEVELS[0] else f"{found:+d} dB"
    if not far_ok:
        return f"({text}; FAR {far:.2f} > {allowed:.2f})"
    return text


def injection_table(results: dict) -> str:
    """Event × detector: the share of injected normal clips flagged at each level, and the minimum detectable level."""
    lines = [
        "| event | detector | FAR (allowed) | "
        + " | ".join(f"{level:+d} dB" for level in LEVELS)
        + " | minimum level |",
        "|---|---|---:|" + "---:|" * len(LEVELS) + "---|",
    ]
    for event in EVENTS:
        for name, d in results.items():
            if "error" in d:
                lines.append(f"| {EVENT_NAMES[event]} | {name} | error: {d['error']} |" + " |" * (len(LEVELS) + 1))
                continue
            e = d["events"][event]
            rates = " | ".join(f"{rate:.0%}" for rate in e["rates"])
            lines.append(
                f"| {EVENT_NAMES[event]} | {name} | {d['far']:.2f} ({d['allowed']:.2f}) | {rates} "
                f"| {level_text(e['level'], d['far_ok'], d['far'], d['allowed'])} |"
            )
    return "\n".join(lines)


def injection_summary(per_dataset: dict) -> str:
    """Dataset × (event, detector): the minimum detectable levels."""
    names = (DEFAULT, BASELINE)
    header = [f"{e}: {n.split(' ', 1)[1] if n == DEFAULT else n}" for e in EVENTS for n in names]
    lines = ["| dataset | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]
    for dataset, results in per_dataset.items():
        cells = []
        for event in EVENTS:
            for name in names:
                d = results.get(name)
                if d is None or "error" in d:
                    cells.append("-" if d is None else "error")
                else:
                    cells.append(level_text(d["events"][event]["level"], d["far_ok"], d["far"], d["allowed"]))
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- domain shift


def prepare_domain_shift(seeds, cache: Path):
    """Per seed, one section of :data:`DOMAIN_SHIFT`: ``DOMAIN_TRAIN`` training clips, a
    ``DOMAIN_TARGET_FRACTION`` of them in the target domain, and ``DOMAIN_TEST`` normal and as many
    anomalous test clips, half in each domain: ``(plan, description)``.

    Two calls of ``make_machine_sounds`` with the same seed: a section's machine (its sound and its
    target domain's speed) depends on the seed only, so both draw clips of the same machine.
    """
    from audioad.audio import load_audio
    from audioad.datasets import make_machine_sounds

    plan = {}
    for seed in seeds:
        folder = cache / f"domain-shift_{seed}"
        train = make_machine_sounds(
            folder / "train",
            n_train=DOMAIN_TRAIN,
            n_test_normal=0,
            n_test_anomaly=0,
            target_fraction=DOMAIN_TARGET_FRACTION,
            random_state=seed,
            **DOMAIN_SHIFT,
        ).filter(split="train")
        test = make_machine_sounds(
            folder / "test",
            n_train=0,
            n_test_normal=DOMAIN_TEST,
            n_test_anomaly=DOMAIN_TEST,
            target_fraction=0.5,
            random_state=seed,
            **DOMAIN_SHIFT,
        ).filter(split="test")
        clips = list(train) + list(test)
        waves = [load_audio(clip.path, sr=DOMAIN_SHIFT["sr"])[0].astype(np.float32) for clip in clips]
        section = {
            "name": "fan/00",
            "train": list(range(len(train))),
            "train_domains": [clip.domain for clip in train],
            "test": list(range(len(train), len(clips))),
            "y": [int(clip.label == "anomaly") for clip in test],
            "test_domains": [clip.domain for clip in test],
        }
        plan[str(seed)] = {
            "clips": save_clips(waves, folder),
            "sr": DOMAIN_SHIFT["sr"],
            "seed": seed,
            "direction": "-",
            "sections": [section],
        }
    first = plan[str(seeds[0])]["sections"][0]
    n_target = first["train_domains"].count("target")
    description = (
        f"`make_machine_sounds` (machine fan, one section, {DOMAIN_SHIFT['duration']:g} s clips at "
        f"{DOMAIN_SHIFT['sr'] // 1000} kHz): {len(first['train']) - n_target} source + {n_target} target training "
        f"clips; {DOMAIN_TEST} normal + {DOMAIN_TEST} anomalous test clips, half of each in the target domain "
        "(8-15 % faster or slower); the seed is the generator's `random_state`"
    )
    return plan, description


def domain_metrics(result: dict, plan: dict) -> dict:
    """AUC and pAUC of each domain's test clips (its normals against its anomalies), and the share of its
    normal clips above ``threshold_``: mean and std over seeds."""
    from audioad.metrics import auc, pauc

    if "error" in result:
        return {"error": result["error"]}
    values = {domain: {"auc": [], "pauc": [], "far": []} for domain in ("source", "target")}
    errors = [run["error"] for run in result["runs"] if "error" in run]
    for run in result["runs"]:
        if "error" in run:
            continue
        section = plan[run["split"]]["sections"][0]
        scores, y, domains = np.asarray(run["scores"][0]), np.asarray(section["y"]), section["test_domains"]
        for domain, got in values.items():
            inside = np.array([d == domain for d in domains])
            got["auc"].append(auc(y[inside], scores[inside]))
            got["pauc"].append(pauc(y[inside], scores[inside], max_fpr=MAX_FPR))
            got["far"].append(float(np.mean(scores[inside & (y == 0)] > run["thresholds"][0])))
    if not values["source"]["auc"]:
        return {"error": errors[0]}
    row = {"n_ok": len(values["source"]["auc"]), "partial_error": errors[0] if errors else None}
    for domain, got in values.items():
        for metric, series in got.items():
            row[f"{domain}_{metric}"] = float(np.mean(series))
            row[f"{domain}_{metric}_std"] = float(np.std(series, ddof=1 if len(series) > 1 else 0))
    return row


def domain_table(rows: dict) -> str:
    lines = [
        "| detector | source AUC | target AUC | source − target AUC | source pAUC | target pAUC "
        "| FAR at threshold_, source / target | notes |",
        "|---|---|---|---:|---|---|---:|---|",
    ]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error'].replace('|', '/')} | | | | | | |")
            continue
        cells = [
            f"{r[f'{d}_{m}']:.3f} ± {r[f'{d}_{m}_std']:.3f}" for m in ("auc", "pauc") for d in ("source", "target")
        ]
        note = f"a seed failed: {r['partial_error']}" if r["partial_error"] else ""
        lines.append(
            f"| {name} | {cells[0]} | {cells[1]} | {r['source_auc'] - r['target_auc']:+.3f} | {cells[2]} | {cells[3]} "
            f"| {r['source_far']:.2f} / {r['target_far']:.2f} | {note} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- environment and RESULTS.md


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark audioad's detectors against PyOD's audio detectors on the development sets "
        "(AUC, pAUC, the default's regret, false alarms and detections at threshold_, fit/score seconds, "
        "peak memory, minimum detectable level of short events, domain shift) and write benchmarks/RESULTS.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"generator seed {QUICK_SEEDS[0]} only, the detectors marked quick, "
        f"datasets {', '.join(QUICK_DATASETS)}, "
        f"epoch_num={QUICK_EPOCHS} for the autoencoders (about 4 minutes on 2 cores), no domain shift",
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of the real datasets (default: <repo>/../shared/data)"
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, help="datasets to run (default: all)")
    parser.add_argument(
        "--detectors",
        nargs="+",
        metavar="NAME",
        help="detectors to run, by name as in the tables (default: all, or the quick set)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        help="the synthetic sets' generator seeds, and the domain shift's (default: 0-2, or 0 with --quick); "
        "every set is split both ways whatever the seeds",
    )
    parser.add_argument(
        "--epochs", type=int, help=f"epoch_num of the autoencoders (default {EPOCHS}, {QUICK_EPOCHS} with --quick)"
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch threads of the autoencoders' processes, 0 for torch's default "
        "(default 1: see benchmarks/README.md)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds one (dataset, detector) process may run (default 600)"
    )
    parser.add_argument(
        "--domain-shift",
        action="store_true",
        help="run the domain-shift part (part of the full run); without --datasets, only that part",
    )
    parser.add_argument(
        "--injection-splits",
        type=int,
        metavar="K",
        help=f"refit the default and {BASELINE} on each set's first K splits for the minimum detectable level "
        f"(default {INJECTION_SPLITS}: earlier→later; 0 leaves it out)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="file to write (default: %(default)s)")
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave RESULTS.md alone")
    parser.add_argument("--list", action="store_true", help="list the detectors and exit")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/run.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))

    if args.list:
        for spec in DETECTORS:
            problem = importable(spec)
            print(f"{spec.name:32s} {'quick ' if spec.quick else '      '}{problem or 'ok'}")
        return 0
    if args.detectors:
        unknown = [name for name in args.detectors if name not in REGISTRY]
        if unknown:
            print(f"unknown detector(s) {unknown}; known: {', '.join(REGISTRY)}", file=sys.stderr)
            return 2
        wanted = [REGISTRY[name] for name in args.detectors]
    else:
        wanted = [d for d in DETECTORS if d.quick or not args.quick]

    full = not (args.quick or args.datasets or args.detectors or args.seeds or args.domain_shift)
    seeds = tuple(args.seeds) if args.seeds else (QUICK_SEEDS if args.quick else SEEDS)
    epoch_num = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    n_injection = INJECTION_SPLITS if args.injection_splits is None else args.injection_splits
    messages = []

    def say(line):
        print(line, flush=True)
        messages.append(line)

    detectors, skipped = [], []
    for spec in wanted:
        problem = importable(spec)
        if problem:
            skipped.append(f"{spec.name} ({problem})")
        else:
            detectors.append(spec)
    if skipped:
        say("skipped, does not import: " + "; ".join(skipped))

    run_domain_shift = args.domain_shift or full
    datasets = (
        []
        if args.domain_shift and not args.datasets
        else list(args.datasets or (QUICK_DATASETS if args.quick else DATASETS))
    )
    real = [name for name in datasets if name in REAL_DATASETS]
    if real and not args.data.is_dir():
        shown = "../shared/data" if args.data == DEFAULT_DATA else str(args.data)
        say(f"{shown} not found: running the synthetic sets only")
        datasets = [name for name in datasets if name not in REAL_DATASETS]
    for name in real:
        folder = args.data / DEV_SETS[name].folder
        if name in datasets and not (folder / "manifest.csv").is_file():
            say(f"{folder}/manifest.csv not found: skipping {name}")
            datasets.remove(name)

    def seeds_of(dataset):
        return tuple(s for s in seeds if s in FULL_RUN_SEEDS[dataset]) if full and dataset in FULL_RUN_SEEDS else seeds

    def detectors_of(dataset):
        if full and dataset in FULL_RUN_WITHOUT:
            return [d for d in detectors if d.name not in FULL_RUN_WITHOUT[dataset]]
        return detectors

    if full:
        say(f"domain shift: seed {', '.join(map(str, FULL_RUN_DOMAIN_SEEDS))} only, to keep the full run short")
        for dataset in datasets:
            if dataset in FULL_RUN_SEEDS:
                say(
                    f"{dataset}: generator seed{'s' if len(seeds_of(dataset)) > 1 else ''} "
                    f"{', '.join(map(str, seeds_of(dataset)))} only, "
                    "to keep the full run short"
                )
            left_out = [d.name for d in detectors if d.name in FULL_RUN_WITHOUT.get(dataset, ())]
            if left_out:
                say(f"{dataset}: without {', '.join(left_out)}, to keep the full run short")

    plan_line = (
        f"{len(detectors)} detectors x {len(datasets)} datasets, generator seeds {list(seeds)}; " if datasets else ""
    )
    print(
        f"{plan_line}autoencoders at epoch_num={epoch_num}" + ("; then the domain shift" if run_domain_shift else ""),
        flush=True,
    )
    tables, descriptions, regrets, injections = {}, {}, {}, {}
    context = process_context()
    with tempfile.TemporaryDirectory(prefix="audioad-bench-") as tmp:
        cache = Path(tmp)
        for dataset in datasets:
            start = time.perf_counter()
            set_seeds = seeds_of(dataset)
            plan, description = prepare(dataset, set_seeds, cache, args.data)
            descriptions[dataset] = description
            print(f"\n## {dataset}: {description} (decoded in {time.perf_counter() - start:.1f} s)", flush=True)
            rows = {}
            for spec in detectors_of(dataset):
                start = time.perf_counter()
                job = {
                    "detector": spec.name,
                    "splits": list(plan),
                    "epoch_num": epoch_num,
                    "torch_threads": args.torch_threads,
                    "plan": plan,
                    "cache": str(cache),
                }
                if spec.name in (DEFAULT, BASELINE) and n_injection > 0:
                    job["inject"] = {"splits": list(plan)[:n_injection], "events": list(EVENTS), "levels": LEVELS}
                result = run_worker(context, job, cache, args.timeout)
                rows[spec.name] = r = summarise(result, plan)
                outcome = f"error: {r['error']}" if "error" in r else f"AUC {r['auc']:.3f}"
                cpu = f"{result['cpu_s']:6.1f} s CPU" if "cpu_s" in result else "CPU unknown"
                extra = ""
                if "injections" in result:
                    found = result["injections"]
                    injections.setdefault(dataset, {})[spec.name] = (
                        {"error": found["error"]} if "error" in found else detectable(found)
                    )
                    extra = f" + injections {found['wall_s']:.1f} s, {found['cpu_s']:.1f} s CPU"
                print(f"  {spec.name:30s} {time.perf_counter() - start:6.1f} s ({cpu}{extra})  {outcome}", flush=True)
            tables[dataset] = table(dataset, rows)
            regrets[dataset] = regret_of(rows)
            print("\n" + tables[dataset], flush=True)
            if dataset in injections:
                print("\nminimum detectable level\n\n" + injection_table(injections[dataset]), flush=True)

        domain_rows, domain_description = {}, None
        if run_domain_shift:
            start = time.perf_counter()
            domain_seeds = tuple(args.seeds) if args.seeds else (FULL_RUN_DOMAIN_SEEDS if full else DOMAIN_SEEDS)
            plan, domain_description = prepare_domain_shift(domain_seeds, cache)
            print(
                f"\n## domain shift: {domain_description}; seeds {', '.join(map(str, domain_seeds))} "
                f"(generated in {time.perf_counter() - start:.1f} s)",
                flush=True,
            )
            for name in (DEFAULT, BASELINE):
                spec = REGISTRY[name]
                if importable(spec):
                    continue
                start = time.perf_counter()
                job = {
                    "detector": name,
                    "splits": list(plan),
                    "epoch_num": epoch_num,
                    "torch_threads": args.torch_threads,
                    "plan": plan,
                    "cache": str(cache),
                }
                domain_rows[name] = r = domain_metrics(run_worker(context, job, cache, args.timeout), plan)
                outcome = (
                    f"error: {r['error']}"
                    if "error" in r
                    else f"AUC source {r['source_auc']:.3f}, target {r['target_auc']:.3f}"
                )
                print(f"  {name:30s} {time.perf_counter() - start:6.1f} s  {outcome}", flush=True)
            print("\n" + domain_table(domain_rows), flush=True)

    summary = summary_table(regrets) if regrets else ""
    injection_overview = injection_summary(injections) if injections else ""
    if summary:
        print("\n## Summary: the default's regret and the best PyOD detector\n\n" + summary, flush=True)
    if injection_overview:
        print("\n## Summary: minimum detectable level (in-band)\n\n" + injection_overview, flush=True)
    minutes = (time.perf_counter() - began) / 60
    print(f"\nwhole run: {minutes:.1f} min", flush=True)
    section = [
        "## Accuracy, time and memory against PyOD (`benchmarks/run.py`)",
        "",
        *run_lines(command, began, load),
        f"- synthetic generator seeds: {', '.join(map(str, seeds))}{' (fewer where a note says)' if full else ''}; "
        "autoencoders (`AudioAE`, both libraries) at "
        f"sr=16000 and epoch_num={epoch_num}, other settings default, torch on "
        f"{args.torch_threads or 'its default number of'} thread(s); `EmbeddingOD.for_audio(...)` with "
        "random_state=seed (the generator's; 0 on the real sets), other settings default",
        "- protocol (issue 22; `benchmarks/devsets.py`): fit on normal clips only, split by recording and by time, "
        "never by random clips of one recording, in both directions (earlier→later: the earlier block of "
        "recordings trains and the later tests; later→earlier: the reverse), every anomalous clip in the test. "
        "bldc_motor: per motor, its normal recordings in order of speed cut in two contiguous blocks; fan: per "
        "recording session, its normal recordings in time order cut in two; fan-drift: trained on the 2020 "
        "session, tested on the 2021 one (one direction); paper_machine: the normal snippets in file order cut "
        "in two. Synthetic sets: `make_machine_sounds(sessions=2)`, each section recorded in two sessions that "
        "drift (gain, microphone tilt, speed range, wear, background); trained on one session's training clips, "
        "tested on the other's test clips, both ways. Test clips whose decoded samples equal a training clip's "
        "are dropped (each set's line says how many). Real clips decoded once to mono at 16 kHz, synthetic ones "
        "at the set's rate; every detector gets the same `(waveform, sr)` tuples, and detectors at another rate "
        "resample them. Detectors are fitted as `audioad evaluate` fits them: on the training clips, without "
        "their recordings (`groups`), so the default's held-out folds (and its `threshold_`) are consecutive "
        "runs of training clips (why: `benchmarks/group_folds.py`).",
        f"- AUC and pAUC (max_fpr={MAX_FPR}, McClish-standardised as sklearn): mean ± sample std over splits "
        "(both directions, every generator seed); the AUC of each direction beside it. "
        "FAR at threshold_ / detection at threshold_: the share of normal / anomalous test clips whose score is "
        "above the fitted detector's own `threshold_` (all sections of a split pooled), mean over splits. "
        "fit s and score s: median over splits of the wall time of `fit` on the training clips and of "
        "`decision_function` on the test clips (summed over a set's sections). "
        "peak MB: the maximum resident set size of the process that ran the detector on that dataset, "
        "all splits; the whole process, including the interpreter, imports and the dataset's clips in memory.",
        f"- regret: the best AUC of any audioad detector on the set minus the default's "
        f"(`{DEFAULT.split(' ', 1)[1]}()`); the goal on every set is regret ≤ {REGRET_GOAL} and the default "
        "≥ the best PyOD detector.",
    ]
    if injections:
        section.append(
            f"- minimum detectable level: `{DEFAULT.split(' ', 1)[1]}()` and {BASELINE}, fitted again as in the "
            f"table on {'the first split' if n_injection == 1 else f'the first {n_injection} splits'} of each set "
            "(earlier→later, the first generator seed), "
            "score every normal test clip with an event "
            f"added ({EVENT_SECONDS:g} s centred, or the whole clip if shorter; `benchmarks/injections.py`) at "
            f"in-band levels {', '.join(f'{v:+d}' for v in LEVELS)} dB: its energy in its band (the tone's mel "
            "band; the clicks' and the noise's octave) relative to the clip's own energy in that band over the "
            f"event's span. The cells give the share flagged by `threshold_`; the minimum level is the lowest "
            f"from which on at least {DETECTED:.0%} are flagged, reported only where the false-alarm rate on the "
            "same normal clips without an event (FAR) is within what `contamination` allows: contamination plus "
            "two binomial standard errors (the number in brackets). Where FAR is higher, the level is given in "
            "brackets with the FAR: not a result."
        )
    if messages:
        section += [f"- note: {line}" for line in messages]
    if summary:
        section += ["", "### Summary: the default's regret and the best PyOD detector", "", summary]
    if injection_overview:
        section += ["", "### Summary: minimum detectable level (in-band; goal: +10 dB or less)", "", injection_overview]
    for dataset in datasets:
        section += [
            "",
            f"### {dataset}",
            "",
            f"{DEV_SETS[dataset].note}. {descriptions[dataset]}.",
            "",
            tables[dataset],
        ]
        if dataset in injections:
            section += ["", "Minimum detectable level:", "", injection_table(injections[dataset])]
    if domain_rows:
        section += [
            "",
            "### Domain shift",
            "",
            f"{domain_description}. AUC and pAUC of each domain's test clips apart (its normal clips against its "
            "anomalous ones), mean ± std over generator seeds; FAR at threshold_: the share of each domain's normal "
            "test clips above the detector's `threshold_`, mean over seeds. The detectors are fitted on the clips "
            "alone "
            "(a detector whose `fit` takes `domains` is given the training clips' domains).",
            "",
            domain_table(domain_rows),
        ]
    if not args.no_write:
        write_results("run.py", "\n".join(section), args.results)
        print(f"wrote the run.py section of {args.results}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
