"""The default detector's design, chosen leave-one-set-out by regret over every development set.

One command::

    python benchmarks/choices.py            # every set of devsets.py, generator seed 0: 18 minutes on 2 busy cores
    python benchmarks/choices.py --quick    # no 10 s sets: about 3 minutes

A *view* is one audioad detector (a pooling of the log-mel spectrogram, a distance); a
*configuration* is a set of views standardised on held-out normal clips and combined by their
mean or their maximum, which is what :class:`audioad.detectors.ensemble.Ensemble` does. On every
development set and split (``devsets.py``: by recording and by time, both directions, issue 22's
protocol; the synthetic sets for each generator seed), each view is fitted once on the training clips, with its held-out
scores of the training clips (5 folds of consecutive training clips, as the Ensemble computes them
when ``fit`` gets no ``groups``, which is how ``audioad fit`` and ``audioad evaluate`` fit it; see
``group_folds.py`` for why not folds of whole recordings) and its scores of the test clips; every
configuration's AUC follows from these without refitting.

**Regret** of a configuration on a set: the AUC of the best view *or* configuration on that set,
minus the configuration's AUC (mean over splits). The configurations are ranked by their worst
regret over the sets. **Leave one set out**: for each set, the configuration with the smallest
worst regret on the *other* sets is chosen, and its regret on the set left out is reported; a
choice that holds only on the set it was chosen on shows up there. The run.py section of
RESULTS.md measures the default against every detector, PyOD's included; this one explains why
the default is built as it is. Without ``../shared/data`` only the synthetic sets run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, RESULTS_PATH, run_lines, write_results
from devsets import DATASETS, DEV_SETS, load_clips, prepare

# The synthetic sets' generator seeds; every set is split both ways, so seed 0 gives each synthetic
# set 2 machines x 2 directions (a run within the hour on a machine shared with others' work).
SEEDS = (0,)
QUICK_SEEDS = (0,)
COMBINATIONS = ("mean", "max")
MAX_VIEWS = 3


def views():
    """The candidate views by name: each an unfitted audioad detector."""
    from audioad.detectors.event_knn import EventKNN
    from audioad.detectors.gmm import MelGMM
    from audioad.detectors.knn import MelKNN
    from audioad.detectors.mahalanobis import MelMahalanobis
    from audioad.detectors.window_knn import WindowKNN

    found = {}
    for pooling in ("mean", "delta_std", "max", "std", "gwrp"):
        found[f"{pooling}"] = MelKNN(pooling=pooling)
        found[f"{pooling}/M"] = MelKNN(pooling=pooling, metric="mahalanobis")
    found["window"] = WindowKNN(context=5, window_hop=2, max_windows=2048)
    found["event"] = EventKNN()
    found["twfr-gmm"] = MelGMM()
    found["mahalanobis"] = MelMahalanobis()
    return found


#: The configurations named in the tables whatever their rank.
NAMED = {
    "default before issue 14": (("mean", "delta_std", "window"), "mean"),
    "default before issue 22": (("mean/M", "delta_std/M"), "max"),
    "default": (("mean/M", "delta_std/M", "event"), "max"),
}


def view_scores(clips, sections, candidates, train_clips=None, seed=0):
    """Per section: (held-out scores (n_train, n_views), test scores (n_test, n_views), test labels).

    ``train_clips``: fit on that many of a section's training clips, drawn at random (by ``seed``,
    a number of the split, and the section), in their order; None: all of them.
    """
    from audioad.detectors.ensemble import Ensemble, member_features

    results = []
    for number, section in enumerate(sections):
        train = section["train"]
        if train_clips is not None and train_clips < len(train):
            drawn = np.sort(np.random.default_rng([seed, number]).choice(len(train), train_clips, replace=False))
            train = [train[i] for i in drawn]
        # no groups: held-out folds of consecutive training clips, as `audioad fit` and `audioad evaluate`
        # fit the default (folds of whole recordings did worse on the shared sets: group_folds.py)
        ensemble = Ensemble(list(candidates.values())).fit([clips[i] for i in train])
        features = ensemble.features_of([clips[i] for i in section["test"]])
        test = np.column_stack(
            [
                member.score_features(member_features(features, position))
                for position, member in enumerate(ensemble.members_)
            ]
        )
        results.append((ensemble.held_out_scores_, test, np.asarray(section["y"])))
    return results


def set_scores(name, seeds, cache, data, candidates, train_clips=None):
    """Every section of every split of set ``name``, its views fitted: ``[(held_out, test, y, section)]``.

    ``cache``: the folder the set is decoded into (:func:`devsets.prepare`); the rest as :func:`view_scores`,
    whose ``seed`` is the split's number.
    """
    plan, _ = prepare(name, seeds, Path(cache), data)
    found = []
    for number, entry in enumerate(plan.values()):
        clips = load_clips(cache, entry["clips"], entry["sr"])
        scored = view_scores(clips, entry["sections"], candidates, train_clips, number)
        found += [(*scores, section) for scores, section in zip(scored, entry["sections"])]
    return found


def combined(held_out, test, combine):
    """The Ensemble's score: each view robustly standardised on its held-out scores, then combined."""
    from audioad.detectors.ensemble import combined_scores, member_standardisation

    return combined_scores(test, *member_standardisation(held_out), combine)


def configurations(names):
    for size in range(1, MAX_VIEWS + 1):
        for subset in itertools.combinations(names, size):
            for combine in COMBINATIONS if size > 1 else ("mean",):
                yield subset, combine


def configuration_name(subset, combine) -> str:
    return subset[0] if len(subset) == 1 else f"{combine}({' + '.join(subset)})"


def evaluate(runs, names, named=NAMED):
    """AUC of every configuration on one set, mean over splits and sections: {(subset, combine): auc}.

    ``named``: configurations of any size evaluated beside those of up to :data:`MAX_VIEWS` views.
    """
    from audioad.metrics import auc

    index = {name: i for i, name in enumerate(names)}
    wanted = list(configurations(names)) + [key for key in named.values() if set(key[0]) <= set(index)]
    aucs = {}
    for subset, combine in dict.fromkeys(wanted):
        columns = [index[name] for name in subset]
        aucs[subset, combine] = float(
            np.mean([auc(y, combined(held[:, columns], test[:, columns], combine)) for held, test, y in runs])
        )
    return aucs


def tables(aucs, sets, names, top, named=NAMED):
    """The views alone, the regret table (``named`` first, then the ``top`` configurations) and leave one set out."""
    best = {name: max(values.values()) for name, values in aucs.items()}
    regret = {key: {name: best[name] - aucs[name][key] for name in sets} for key in aucs[sets[0]]}
    ranked = sorted(regret, key=lambda key: (max(regret[key].values()), np.mean(list(regret[key].values()))))
    short = [name.replace("fluctuation", "fluct.").replace("stationary", "stat.") for name in sets]

    def row(label, key):
        cells = "".join(f" {regret[key][name]:.3f} |" for name in sets)
        return f"| {label} |{cells} {max(regret[key].values()):.3f} |"

    header = ["| configuration |" + "".join(f" {s} |" for s in short) + " worst |", "|---|" + "---:|" * (len(sets) + 1)]
    lines = ["### Views alone (AUC, mean over splits)", "", "| view |" + "".join(f" {s} |" for s in short)]
    lines.append("|---|" + "---:|" * len(sets))
    for view in names:
        lines.append(f"| {view} |" + "".join(f" {aucs[name][(view,), 'mean']:.3f} |" for name in sets))
    lines += ["", "### Regret (best AUC on the set minus the configuration's)", ""]
    lines += [f"Best AUC per set: {', '.join(f'{s} {best[n]:.3f}' for s, n in zip(short, sets))}.", ""]
    lines += header
    for label, key in named.items():
        if key in regret:
            lines.append(row(f"**{label}**: {configuration_name(*key)}", key))
    for key in ranked[:top]:
        lines.append(row(configuration_name(*key), key))
    lines += ["", "### Leave one set out", ""]
    if len(sets) < 2:
        lines.append("(one set: nothing to leave out)")
    else:
        lines += ["| set left out | chosen on the others | its regret there |", "|---|---|---:|"]
    for name, label in zip(sets, short if len(sets) > 1 else ()):
        choice = min(regret, key=lambda key: max(v for other, v in regret[key].items() if other != name))
        lines.append(f"| {label} | {configuration_name(*choice)} | {regret[choice][name]:.3f} |")
    return lines


def chosen_sets(args):
    """The development sets and generator seeds that ``--quick``, ``--datasets``, ``--seeds`` and ``--data``
    ask for, and the run's notes: without the shared recordings, the synthetic sets only (said once, printed)."""
    seeds = tuple(args.seeds or (QUICK_SEEDS if args.quick else SEEDS))
    sets = list(args.datasets or [name for name in DATASETS if not (args.quick and "10s" in name)])
    notes = []
    if not args.data.is_dir():
        notes.append("../shared/data not found: the synthetic sets only")
        print(notes[-1], flush=True)
        sets = [name for name in sets if not DEV_SETS[name].real]
    return sets, seeds, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Choose the default detector's views leave-one-set-out by regret.")
    parser.add_argument("--quick", action="store_true", help="no 10 s sets (about 3 minutes)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, help="development sets (default: all)")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        help="the synthetic sets' generator seeds (default 0); every set is split both ways",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--top", type=int, default=15, help="configurations listed, best worst-regret first")
    parser.add_argument("--views", nargs="+", metavar="VIEW", help="candidate views (default: all 14)")
    parser.add_argument(
        "--train-clips",
        type=int,
        metavar="N",
        help="fit on N training clips a section, drawn at random (the few-clip regime: a 2-minute recording "
        "gives 12 segments of 10 s); written to its own RESULTS.md section",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/choices.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    sets, seeds, notes = chosen_sets(args)

    candidates = views()
    if args.views:
        unknown = sorted(set(args.views) - set(candidates))
        if unknown:
            parser.error(f"unknown views {unknown}; the views are {', '.join(candidates)}")
        candidates = {name: candidates[name] for name in args.views}
    names = list(candidates)
    aucs = {}
    with tempfile.TemporaryDirectory(prefix="audioad-choices-") as tmp:
        for name in sets:
            start = time.perf_counter()
            runs = [scores[:3] for scores in set_scores(name, seeds, tmp, args.data, candidates, args.train_clips)]
            aucs[name] = evaluate(runs, names)
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)

    body = "\n".join(tables(aucs, sets, names, args.top))
    print("\n" + body, flush=True)

    few = f" with {args.train_clips} training clips a section" if args.train_clips else ""
    described = (
        ", ".join(names)
        if args.views
        else "MelKNN on each pooling (`/M`: metric='mahalanobis'), WindowKNN(context=5, window_hop=2, "
        "max_windows=2048), EventKNN (`event`), MelGMM (TWFR), MelMahalanobis"
    )
    section = [
        f"## The default's design{few}, leave one set out (`benchmarks/choices.py`)",
        "",
        *run_lines(command, began, load),
        f"- sets: {', '.join(sets)}; synthetic generator seeds {', '.join(map(str, seeds))}; views: {described}; "
        f"configurations: up to {MAX_VIEWS} views, combined by mean or max",
        "- protocol (issue 22; `benchmarks/devsets.py`): split by recording and by time in both directions "
        "(earlier→later and later→earlier), every anomalous clip tested; bldc_motor per motor in order of speed, "
        "fan per recording session in time order, fan-drift trained on 2020 and tested on 2021, paper_machine in "
        "file order, the synthetic sets trained on one recording session and tested on the other (they drift); "
        "test clips identical to a training clip dropped; held-out scores from 5 folds of consecutive training "
        "clips (no `groups`, as `audioad fit` fits the default). AUC is the mean over splits (and sections)",
        *[f"- note: {note}" for note in notes],
        "",
        body,
    ]
    if not args.no_write:
        write_results("choices.py" + (" --train-clips" if args.train_clips else ""), "\n".join(section))
        print(f"wrote the choices.py section of {RESULTS_PATH}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
