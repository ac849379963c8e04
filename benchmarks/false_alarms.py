"""Where the default's false alarms on new recordings come from, and the remedies tried (issue 22, item 3).

One command::

    python benchmarks/false_alarms.py            # every set of devsets.py, generator seed 0: about a minute on 2 cores
    python benchmarks/false_alarms.py --no-write # print only

On devsets.py's splits (by recording and by time, both directions), the default's three views are
fitted on each section's training clips beside the variants below, as ``choices.py`` fits its
views (held-out scores from 5 folds of consecutive training clips). Every figure is a mean over
splits and sections: AUC; FAR, the share of normal test clips above the threshold; detection, the
share of anomalous test clips above it. On the synthetic sets, a tenth of whose test clips are of a
target domain the training list holds 3 clips of (``make_machine_sounds``' domain shift), FAR is
also given for the source and the target domain's normal clips apart.

What is varied, one thing at a time, against the default as built
(``max(mean/M + delta_std/M + event)``, each view standardised by the median and interquartile
range of its held-out scores, ``threshold_`` at the contamination quantile of the combined held-out
scores, capped at their far-out fence):

- **the mean view's metric**: the covariance of the Mahalanobis metric widened along the two ways a
  session's microphone and room move every band at once, a gain (all bands up or down by 3 dB,
  standard deviation) and a tilt (0.3 dB per octave around 1 kHz), so that neither costs much; and
  a floor of 1 dB under each band's spread in the standardisation, so that a band the training
  clips hold very steady cannot alarm on a change of a fraction of a decibel;
- **the k-NN views' distance**, relative to the nearest training clip's own distance to its nearest
  (local density, as the DCASE systems that score a domain of few clips measure it, here without
  domain labels);
- **the threshold** on the combined held-out scores: Tukey's fences (Q3 + 1.5 IQR, Q3 + 3 IQR),
  their 95th percentile, their maximum;
- **the standardisation** of each view before the ``max``: the median absolute deviation, the
  distance from the median to the 90th percentile, the mean and standard deviation; and the mean
  of the views instead of their maximum.

And the remedy audioad offers where the recordings drift, thresholds from new normal recordings
(``audioad score --calibrate``, :func:`audioad.thresholds.segment_threshold` on their scores):
the first half of each section's normal test clips, in their order, calibrate; FAR is measured
on the other half and detection on every anomalous clip, beside ``threshold_`` on the same clips.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from choices import chosen_sets, set_scores
from common import DEFAULT_DATA, run_lines, write_results
from devsets import DATASETS

#: A session's gain and microphone tilt, as standard deviations: the nuisance the widened metric forgives.
GAIN_DB, TILT_DB_PER_OCTAVE = 3.0, 0.3
#: The smallest spread a band's standardisation takes (dB).
FLOOR_DB = 1.0
CONTAMINATION = 0.1


def views():
    """The default's three views and the variants of its mean view, by name (unfitted)."""
    from audioad.detectors.event_knn import EventKNN
    from audioad.detectors.knn import MelKNN

    return {
        "mean/M": MelKNN(pooling="mean", metric="mahalanobis"),
        "delta_std/M": MelKNN(pooling="delta_std", metric="mahalanobis"),
        "event": EventKNN(),
        "mean/M, gain and tilt forgiven": _nuisance_knn()(pooling="mean", metric="mahalanobis"),
        "mean/M, 1 dB floor": _floored_knn()(pooling="mean", metric="mahalanobis"),
        "mean/M, relative": _relative_knn()(pooling="mean", metric="mahalanobis"),
        "delta_std/M, relative": _relative_knn()(pooling="delta_std", metric="mahalanobis"),
    }


def _nuisance_knn():
    """MelKNN whose Mahalanobis covariance is widened along a session's gain and tilt (a variant, not in audioad)."""
    from audioad.detectors.knn import MelKNN
    from audioad.features.mel import mel_frequencies

    class NuisanceKNN(MelKNN):
        def fit_vectors(self, vectors):
            centres = mel_frequencies(self.n_mels + 2, 0.0, self.sr / 2)[1:-1]
            octaves = np.log2(np.maximum(centres, 20.0) / 1000.0)
            centred = vectors - vectors.mean(axis=0)
            covariance = centred.T @ centred / len(vectors)
            covariance[np.diag_indices_from(covariance)] += self.reg_covar
            for spread, direction in ((GAIN_DB, np.ones(self.n_mels)), (TILT_DB_PER_OCTAVE, octaves - octaves.mean())):
                # a change of the clip in dB, in the standardised units the covariance is in
                change = direction / self.feature_scale_
                covariance += spread**2 * np.outer(change, change)
            variances, axes = np.linalg.eigh(covariance)
            self.whitening_ = axes / np.sqrt(variances)
            self.train_vectors_ = self._whitened(vectors)

    return NuisanceKNN


def _floored_knn():
    """MelKNN whose standardisation takes no band's spread below FLOOR_DB (a variant, not in audioad)."""
    from audioad.detectors.knn import MelKNN

    class FlooredKNN(MelKNN):
        def fit_vectors(self, vectors):
            floored = np.maximum(self.feature_scale_, FLOOR_DB)
            # the same clips standardised by the floored spreads, and the spreads scoring uses
            vectors = vectors * (self.feature_scale_ / floored)
            self.feature_scale_ = floored
            super().fit_vectors(vectors)

    return FlooredKNN


def _relative_knn():
    """MelKNN scoring a clip by its distance to the nearest training clip over that clip's own distance to its
    nearest (a variant, not in audioad): a clip of a condition few training clips hold, whose clips lie far
    apart, is measured by their spacing, as local-density methods measure it."""
    from scipy.spatial.distance import cdist

    from audioad.detectors.knn import MelKNN

    class RelativeKNN(MelKNN):
        def fit_vectors(self, vectors):
            super().fit_vectors(vectors)
            spacing = cdist(self.train_vectors_, self.train_vectors_)
            np.fill_diagonal(spacing, np.inf)
            own = spacing.min(axis=1) if len(spacing) > 1 else np.ones(len(spacing))
            # at least half the median spacing, so that a training clip with a twin does not divide by 0
            self.spacing_ = np.maximum(own, 0.5 * np.median(own) if np.median(own) > 0 else 1.0)

        def score_vectors(self, vectors):
            distances = cdist(self._whitened(vectors), self.train_vectors_)
            nearest = distances.argmin(axis=1)
            return distances[np.arange(len(distances)), nearest] / self.spacing_[nearest]

    return RelativeKNN


DEFAULT = ("mean/M", "delta_std/M", "event")
#: Configurations of views compared with the threshold and standardisation as built.
CONFIGURATIONS = {
    "default as built": DEFAULT,
    "mean view: gain and tilt forgiven": ("mean/M, gain and tilt forgiven", "delta_std/M", "event"),
    "mean view: 1 dB floor": ("mean/M, 1 dB floor", "delta_std/M", "event"),
    "both k-NN views relative to the neighbour's spacing": ("mean/M, relative", "delta_std/M, relative", "event"),
}


def as_built(held):
    """The Ensemble's ``threshold_``: the contamination quantile of held-out scores, capped at their far-out fence."""
    from audioad.detectors.ensemble import far_out_fence
    from audioad.thresholds import contamination_threshold

    return min(contamination_threshold(held, CONTAMINATION), far_out_fence(held))


def _fence(scores, k):
    low, high = np.percentile(scores, [25, 75])
    return float(high + k * (high - low))


#: How the threshold is set from the combined held-out scores of the training clips.
THRESHOLDS = {
    "as built (contamination quantile, capped at Q3 + 3 IQR)": as_built,
    "Q3 + 1.5 IQR": lambda h: _fence(h, 1.5),
    "Q3 + 3 IQR": lambda h: _fence(h, 3.0),
    "95th percentile": lambda h: float(np.quantile(h, 0.95)),
    "largest held-out score": lambda h: float(np.max(h)),
}


def _spread(held, how):
    """Centre and spread of each view's held-out scores (columns), as the standardisation ``how`` takes them.

    The Ensemble's own two (interquartile range, standard deviation) are its
    :func:`~audioad.detectors.ensemble.member_standardisation`; a nil spread of the others is the standard
    deviation, then 1, as there.
    """
    from audioad.detectors.ensemble import member_standardisation

    own = {"interquartile range": "robust", "mean and standard deviation": "zscore"}
    if how in own:
        return member_standardisation(held, own[how])[:2]
    centre = np.median(held, axis=0)
    if how == "median absolute deviation":
        spread = 1.4826 * np.median(np.abs(held - centre), axis=0)
    else:  # median to 90th percentile
        spread = np.percentile(held, 90, axis=0) - centre
    std = held.std(axis=0)
    return centre, np.where(spread > 0, spread, np.where(std > 0, std, 1.0))


#: How each view is standardised before the views are combined, and the combination.
STANDARDISATIONS = {
    "as built (median and interquartile range), max": ("interquartile range", "max"),
    "median absolute deviation, max": ("median absolute deviation", "max"),
    "median to 90th percentile, max": ("median to 90th percentile", "max"),
    "mean and standard deviation, max": ("mean and standard deviation", "max"),
    "median and interquartile range, mean": ("interquartile range", "mean"),
}


def combined(held, test, how="interquartile range", combine="max"):
    """The held-out and test scores of views standardised on the held-out ones and combined, as the Ensemble does."""
    from audioad.detectors.ensemble import combined_scores, member_standardisation

    centre, spread = _spread(held, how)
    informative = member_standardisation(held)[2]
    return tuple(combined_scores(scores, centre, spread, informative, combine) for scores in (held, test))


def rates(test, y, domains, threshold):
    """AUC, FAR, detection, and FAR of the source and target domain's normal clips (NaN where none)."""
    from audioad.metrics import auc

    flagged = test > threshold
    normal = y == 0

    def share(mask):
        return float(flagged[mask].mean()) if mask.any() else float("nan")

    return (
        auc(y, test),
        share(normal),
        share(~normal),
        share(normal & (domains == "source")),
        share(normal & (domains == "target")),
    )


def calibration_split(y):
    """The first half of the normal test clips in order (the calibration recordings), and every other test clip."""
    normal = np.flatnonzero(y == 0)
    calibration = normal[: len(normal) // 2]
    return calibration, np.setdiff1d(np.arange(len(y)), calibration)


def measure(runs, names):
    """{(table, row): mean (AUC, FAR, detection, FAR source, FAR target)} over the runs of one set."""
    from audioad.thresholds import CALIBRATION, segment_threshold

    index = {name: i for i, name in enumerate(names)}
    found = {}

    def add(key, value):
        found.setdefault(key, []).append(value)

    for held, test, y, domains in runs:
        for label, members in CONFIGURATIONS.items():
            columns = [index[m] for m in members]
            h, t = combined(held[:, columns], test[:, columns])
            add(("views", label), rates(t, y, domains, as_built(h)))
        columns = [index[m] for m in DEFAULT]
        for label, (how, combine) in STANDARDISATIONS.items():
            h, t = combined(held[:, columns], test[:, columns], how, combine)
            add(("standardisation", label), rates(t, y, domains, as_built(h)))
        h, t = combined(held[:, columns], test[:, columns])
        for label, rule in THRESHOLDS.items():
            add(("threshold", label), rates(t, y, domains, rule(h)))
        calibration, rest = calibration_split(y)
        if len(calibration) >= 2:
            kept = (t[rest], y[rest], domains[rest])
            add(("calibration", "threshold_ (held-out training clips)"), rates(*kept, as_built(h)))
            calibrated = segment_threshold(t[calibration], CALIBRATION, contamination=CONTAMINATION).value
            add(("calibration", "calibrated on the first half of the new normal clips"), rates(*kept, calibrated))
    with warnings.catch_warnings():  # a set with no target domain: its FAR there is NaN, said as an empty cell
        warnings.simplefilter("ignore", RuntimeWarning)
        return {key: np.nanmean(np.array(values, dtype=float), axis=0) for key, values in found.items()}


def _cell(value):
    return "" if np.isnan(value) else f"{value:.2f}"


def tables(results, sets):
    """Markdown: one table per kind of variant, a row per set and variant."""
    lines = []
    titles = {
        "views": "The k-NN views' metric and distance",
        "threshold": "The threshold on the default's combined held-out scores",
        "standardisation": "The standardisation and combination of the default's views",
        "calibration": "The thresholds from new normal recordings (`audioad score --calibrate`), against threshold_",
    }
    for kind, title in titles.items():
        lines += [
            f"### {title}",
            "",
            "| set | variant | AUC | FAR | detection | FAR, source domain | FAR, target domain |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for name in sets:
            for (table, label), (a, *shares) in results[name].items():
                if table == kind:
                    lines.append(f"| {name} | {label} | {a:.3f} | " + " | ".join(map(_cell, shares)) + " |")
        lines.append("")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Where the default's false alarms come from; remedies tried.")
    parser.add_argument("--quick", action="store_true", help="no 10 s sets")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, help="development sets (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, help="the synthetic sets' generator seeds (default 0)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/false_alarms.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    sets, seeds, notes = chosen_sets(args)
    candidates = views()
    names = list(candidates)
    results = {}
    with tempfile.TemporaryDirectory(prefix="audioad-false-alarms-") as tmp:
        for name in sets:
            start = time.perf_counter()
            runs = [
                (held, test, y, np.asarray(section.get("test_domains", ["source"] * len(y))))
                for held, test, y, section in set_scores(name, seeds, tmp, args.data, candidates)
            ]
            results[name] = measure(runs, names)
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)

    body = "\n".join(tables(results, sets))
    print("\n" + body, flush=True)
    section = [
        "## Where the default's false alarms come from, and remedies tried (`benchmarks/false_alarms.py`)",
        "",
        *run_lines(command, began, load),
        f"- sets: {', '.join(sets)}; synthetic generator seeds {', '.join(map(str, seeds))}; devsets.py's splits "
        "(by recording and by time, both directions), held-out scores from 5 folds of consecutive training clips; "
        "every figure a mean over splits and sections",
        f"- FAR / detection: the share of normal / anomalous test clips above the threshold; FAR by domain: the "
        "synthetic sets' normal test clips of the source and of the target domain apart (a tenth of the training "
        f"clips are of the target domain). Contamination {CONTAMINATION}: the goal is FAR ≤ {2 * CONTAMINATION:.1f}",
        f"- variants: the mean view's Mahalanobis covariance widened by a gain of {GAIN_DB:g} dB and a tilt of "
        f"{TILT_DB_PER_OCTAVE:g} dB per octave (standard deviations), or its standardisation floored at "
        f"{FLOOR_DB:g} dB; both k-NN views' distance over the nearest training clip's own nearest distance; "
        "the threshold and the standardisation as the tables name them",
        *[f"- note: {note}" for note in notes],
        "",
        body,
    ]
    if not args.no_write:
        write_results("false_alarms.py", "\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
