"""audioad's detectors against PyOD 3.6.7's audio detectors: accuracy, time and memory.

One command::

    python benchmarks/run.py            # every dataset, seeds 0-4: under 15 minutes on 2 cores
    python benchmarks/run.py --quick    # seeds 0-1, fewer detectors, 10 epochs: under 3 minutes

On each dataset of ``../shared/data`` (the recordings and the protocol are described in its
README) and on a synthetic set, every detector sees the same clips in the same run and is scored
by AUC and pAUC (max_fpr 0.1), fit and score seconds, and the peak memory of its process. The
tables are printed and written to ``benchmarks/RESULTS.md`` between the ``run.py`` markers
(other benchmark scripts own other sections of that file). Without ``../shared/data`` only the
synthetic set runs, and the output says so.

How a run works: the parent process decodes each dataset once (mono, 16 kHz) into a cache of
arrays and fixes every seed's train/test split. Each (dataset, detector) pair then runs in a
fresh Python process, one at a time, which loads the cached clips, fits and scores every seed,
and reports its scores, its times and its peak resident memory (``ru_maxrss``), so one
detector's memory cannot show up in another's; the processes are forked from a small fork server
(see :func:`process_context`). The parent computes the metrics.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
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
from common import DEFAULT_DATA, RESULTS_PATH, machine, versions, write_results
from devsets import DATASETS, DEV_SETS, REAL_DATASETS, SR, load_clips, prepare

MAX_FPR = 0.1
SEEDS = (0, 1, 2, 3, 4)
QUICK_SEEDS = (0, 1)
EPOCHS = 40  # PyOD AudioAE's default
QUICK_EPOCHS = 10

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

# fan's 5 s clips make it the slowest real set and every detector separates it perfectly, so
# --quick leaves it out, with the 10 s synthetic sets.
QUICK_DATASETS = ("bldc_motor", "paper_machine", "synthetic", "stationary-1s-48k", "fluctuation-2s-16k")


# ---------------------------------------------------------------- worker (one process per run)

# Imported by both libraries' detectors (audioad's base class is PyOD's), so a worker forked with
# them already imported carries nothing it would not have imported itself, and starts in
# milliseconds instead of seconds.
FORKSERVER_PRELOAD = ["numpy", "pyod.models.base"]


def worker(job: dict) -> None:
    """Fit and score one detector on one dataset for every seed; write scores, times, peak RSS."""
    with open(job["log"], "w") as log:
        # Progress bars and warnings go to the job's log, not between the tables.
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    spec = REGISTRY[job["detector"]]
    if spec.torch:
        import torch  # imported before timing, so that no fit pays for it

        if job["torch_threads"]:
            torch.set_num_threads(job["torch_threads"])
    loaded_key, clips, runs = None, None, []
    for seed in job["seeds"]:
        entry = job["plan"][str(seed)]
        if entry["clips"] != loaded_key:
            clips = None  # one clip file in memory at a time
            clips = load_clips(job["cache"], entry["clips"], entry["sr"])
            loaded_key = entry["clips"]
        run = {"seed": seed, "fit_s": 0.0, "score_s": 0.0, "scores": []}
        try:
            for section in entry["sections"]:
                model = spec.build(seed, job["epoch_num"])
                train = [clips[i] for i in section["train"]]
                test = [clips[i] for i in section["test"]]
                start = time.perf_counter()
                model.fit(train)
                run["fit_s"] += time.perf_counter() - start
                start = time.perf_counter()
                scores = model.decision_function(test)
                run["score_s"] += time.perf_counter() - start
                run["scores"].append(np.asarray(scores, dtype=float).tolist())
                model = None
        except Exception as error:
            run = {"seed": seed, "error": f"{type(error).__name__}: {first_line(error)}"}
        runs.append(run)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere
    result = {"runs": runs, "peak_mb": peak_mb, "cpu_s": usage.ru_utime + usage.ru_stime}
    Path(job["out"]).write_text(json.dumps(result))


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
    """AUC and pAUC (mean, std over seeds), median seconds over seeds, peak MB, or an error."""
    from audioad.metrics import auc, pauc

    if "error" in result:
        return {"error": result["error"]}
    aucs, paucs, fits, scores, errors = [], [], [], [], []
    for run in result["runs"]:
        if "error" in run:
            errors.append(run["error"])
            continue
        sections = plan[str(run["seed"])]["sections"]
        try:
            aucs.append(np.mean([auc(s["y"], v) for s, v in zip(sections, run["scores"])]))
            paucs.append(np.mean([pauc(s["y"], v, max_fpr=MAX_FPR) for s, v in zip(sections, run["scores"])]))
        except ValueError as error:
            errors.append(f"ValueError: {first_line(error)}")
            continue
        fits.append(run["fit_s"])
        scores.append(run["score_s"])
    row = {"peak_mb": result["peak_mb"], "n_ok": len(aucs), "n_runs": len(result["runs"])}
    if not aucs:
        return {**row, "error": errors[0]}
    ddof = 1 if len(aucs) > 1 else 0
    row.update(
        auc=float(np.mean(aucs)),
        auc_std=float(np.std(aucs, ddof=ddof)),
        pauc=float(np.mean(paucs)),
        pauc_std=float(np.std(paucs, ddof=ddof)),
        fit_s=float(np.median(fits)),
        score_s=float(np.median(scores)),
        partial_error=errors[0] if errors else None,
    )
    return row


def table(dataset: str, rows: dict) -> str:
    ok = sorted((r for r in rows.items() if "error" not in r[1]), key=lambda r: (-r[1]["auc"], -r[1]["pauc"]))
    failed = [r for r in rows.items() if "error" in r[1]]
    lines = [
        "| detector | AUC mean ± std | pAUC mean ± std | fit s | score s | peak MB | notes |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for name, r in ok:
        notes = []
        if dataset == "paper_machine" and r["auc"] < 0.5:
            notes.append("measures level (AUC < 0.5)")
        if r["partial_error"]:
            notes.append(f"{r['n_runs'] - r['n_ok']} of {r['n_runs']} seeds failed: {r['partial_error']}")
        lines.append(
            f"| {name} | {r['auc']:.3f} ± {r['auc_std']:.3f} | {r['pauc']:.3f} ± {r['pauc_std']:.3f} "
            f"| {r['fit_s']:.2f} | {r['score_s']:.2f} | {r['peak_mb']:.0f} | {'; '.join(notes)} |"
        )
    for name, r in failed:
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-"
        message = r["error"].replace("|", "/")
        lines.append(f"| {name} | error: {message} | | | | {peak} | |")
    return "\n".join(lines)


# ---------------------------------------------------------------- environment and RESULTS.md


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark audioad's detectors against PyOD's audio detectors "
        "(AUC, pAUC, fit/score seconds, peak memory) and write benchmarks/RESULTS.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"seeds {QUICK_SEEDS[0]}-{QUICK_SEEDS[-1]}, the detectors marked quick, "
        f"datasets {', '.join(QUICK_DATASETS)}, "
        f"epoch_num={QUICK_EPOCHS} for the autoencoders (under 3 minutes on 2 cores)",
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
    parser.add_argument("--seeds", nargs="+", type=int, help="seeds (default: 0-4, or 0-1 with --quick)")
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

    seeds = tuple(args.seeds) if args.seeds else (QUICK_SEEDS if args.quick else SEEDS)
    epoch_num = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
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

    datasets = list(args.datasets or (QUICK_DATASETS if args.quick else DATASETS))
    real = [name for name in datasets if name in REAL_DATASETS]
    if real and not args.data.is_dir():
        shown = "../shared/data" if args.data == DEFAULT_DATA else str(args.data)
        say(f"{shown} not found: running the synthetic set only")
        datasets = [name for name in datasets if name == "synthetic"]
    for name in real:
        if name in datasets and not (args.data / name / "manifest.csv").is_file():
            say(f"{args.data / name}/manifest.csv not found: skipping {name}")
            datasets.remove(name)

    print(
        f"{len(detectors)} detectors x {len(datasets)} datasets, seeds {list(seeds)}, "
        f"autoencoders at epoch_num={epoch_num}",
        flush=True,
    )
    tables, descriptions = {}, {}
    context = process_context()
    with tempfile.TemporaryDirectory(prefix="audioad-bench-") as tmp:
        cache = Path(tmp)
        for dataset in datasets:
            start = time.perf_counter()
            plan, description = prepare(dataset, seeds, cache, args.data)
            descriptions[dataset] = description
            print(f"\n## {dataset}: {description} (decoded in {time.perf_counter() - start:.1f} s)", flush=True)
            rows = {}
            for spec in detectors:
                start = time.perf_counter()
                job = {
                    "detector": spec.name,
                    "seeds": list(seeds),
                    "epoch_num": epoch_num,
                    "torch_threads": args.torch_threads,
                    "plan": plan,
                    "cache": str(cache),
                }
                result = run_worker(context, job, cache, args.timeout)
                rows[spec.name] = r = summarise(result, plan)
                outcome = f"error: {r['error']}" if "error" in r else f"AUC {r['auc']:.3f}"
                cpu = f"{result['cpu_s']:6.1f} s CPU" if "cpu_s" in result else "CPU unknown"
                print(f"  {spec.name:30s} {time.perf_counter() - start:6.1f} s ({cpu})  {outcome}", flush=True)
            tables[dataset] = table(dataset, rows)
            print("\n" + tables[dataset], flush=True)

    minutes = (time.perf_counter() - began) / 60
    print(f"\nwhole run: {minutes:.1f} min", flush=True)
    section = [
        "## Accuracy, time and memory against PyOD (`benchmarks/run.py`)",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- command: `{command}` ({minutes:.1f} min)",
        f"- machine: {machine(load)}",
        f"- versions: {versions()}",
        f"- seeds: {', '.join(map(str, seeds))}; autoencoders (`AudioAE`, both libraries) at sr=16000 and "
        f"epoch_num={epoch_num}, other settings default, torch on "
        f"{args.torch_threads or 'its default number of'} thread(s); `EmbeddingOD.for_audio(...)` with "
        "random_state=seed, other settings default",
        "- protocol: fit on normal clips only; split the normal recordings (groups) of a dataset in half "
        "at random per seed (`numpy.random.default_rng(seed).permutation` of the sorted normal groups, "
        "first half trains); test on the other half's clips and all anomalous clips. Every clip is decoded "
        "once to mono at 16 kHz and every detector gets the same `(waveform, 16000)` tuples; detectors at "
        "another rate (both `EmbeddingOD`s at 22050 Hz) resample them.",
        f"- AUC and pAUC (max_fpr={MAX_FPR}, McClish-standardised as sklearn): mean ± sample std over seeds. "
        "fit s and score s: median over seeds of the wall time of `fit` on the training clips and of "
        "`decision_function` on the test clips (synthetic: summed over its sections). "
        "peak MB: the maximum resident set size of the process that ran the detector on that dataset, "
        "all seeds; the whole process, including the interpreter, imports and the dataset's clips in memory.",
    ]
    if messages:
        section += [f"- note: {line}" for line in messages]
    for dataset in datasets:
        section += [
            "",
            f"### {dataset}",
            "",
            f"{DEV_SETS[dataset].note}. {descriptions[dataset]}.",
            "",
            tables[dataset],
        ]
    if not args.no_write:
        write_results("run.py", "\n".join(section), args.results)
        print(f"wrote the run.py section of {args.results}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
