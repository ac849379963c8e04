"""Evaluate a detector on a dataset as DCASE does: one model per machine and section.

For every machine and section of a :class:`~audioad.datasets.ClipTable`, a
new detector is fitted on the normal clips of the train split and scores the
test split; the scores make the per-section AUC / pAUC table and the year's
official score. Data without a train/test split (MIMII, manifests) is split
as the benchmarks split it: the normal recordings (``group`` attribute, or
each clip alone) are halved at random, one half trains, the other half and
every anomalous clip test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .datasets import ClipTable
from .metrics import DOMAINS, arithmetic_mean, auc, harmonic_mean, official_score, pauc, section_table

__all__ = ["Evaluation", "evaluate", "split_by_group", "CONDITION_COLUMNS"]

#: Columns of :meth:`Evaluation.conditions`, for :func:`audioad.metrics.format_table`.
CONDITION_COLUMNS = (
    "machine",
    "section",
    "condition",
    "n_normal",
    "n_anomaly",
    "AUC",
    "pAUC",
    "false_alarm_rate",
    "detection_rate",
)


def split_by_group(table, seed=0):
    """Halve the normal recordings at random: (train, test) tables.

    Clips cut from one recording (the same ``group`` attribute) stay on one
    side; without groups each clip is its own recording. Anomalous clips all
    go to the test side.

    Examples
    --------
    >>> from audioad.datasets import ClipInfo, ClipTable
    >>> table = ClipTable([ClipInfo(f"{i}.wav", "fan", label="normal") for i in range(4)]
    ...                   + [ClipInfo("x.wav", "fan", label="anomaly")])
    >>> train, test = split_by_group(table)
    >>> len(train), len(test)
    (2, 3)
    """

    def group(clip):
        return clip.attributes.get("group", clip.path)

    normal_groups = sorted({group(c) for c in table if c.label != "anomaly"})
    chosen = np.random.default_rng(seed).permutation(len(normal_groups))[: len(normal_groups) // 2]
    train_groups = {normal_groups[i] for i in chosen}
    train = ClipTable(c for c in table if group(c) in train_groups and c.label != "anomaly")
    test = ClipTable(c for c in table if group(c) not in train_groups)
    return train, test


@dataclass
class Evaluation:
    """Scores and figures of one evaluation.

    Attributes
    ----------
    results : list of dict
        One row per test clip: path, machine, section, domain, label, score,
        decision (1 above its model's threshold).
    sections : list of dict
        :func:`audioad.metrics.section_table` of the results.
    year : int or None
        The DCASE year whose official score was computed.
    score : float
        That official score; without a year, the harmonic mean of every
        section's AUC and pAUC.
    thresholds : dict
        ``(machine, section) -> threshold_`` of each fitted model.
    training : dict
        ``(machine, section) -> paths`` of the clips each model was fitted on.
    """

    results: list
    sections: list
    year: int | None
    score: float
    thresholds: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)

    def conditions(self):
        """Per machine, section and condition: AUC, pAUC, and the false-alarm and detection rates at the threshold.

        A condition is a domain (``source``, ``target``) of data that has them, and ``all``,
        the whole section. As the DCASE 2022-2025 evaluators do, a domain's AUC and pAUC set its
        normal clips against *every* anomalous clip of the section; its false-alarm rate is the
        share of its normal clips above the section model's threshold, its detection rate the
        share of its anomalous clips above it.

        Returns
        -------
        list of dict
            ``machine``, ``section``, ``condition``, ``n_normal``, ``n_anomaly``, ``AUC``,
            ``pAUC``, ``false_alarm_rate``, ``detection_rate`` (``None`` where a class is missing).

        Examples
        --------
        >>> results = [dict(machine="fan", section="00", domain=d, label=l, score=s, decision=int(s > 0.5))
        ...            for d, l, s in [("source", "normal", 0.1), ("source", "normal", 0.6),
        ...                            ("target", "normal", 0.7), ("source", "anomaly", 0.9)]]
        >>> [(r["condition"], r["false_alarm_rate"], r["detection_rate"], r["AUC"])
        ...  for r in Evaluation(results, [], None, 0.0).conditions()]
        [('source', 0.5, 1.0, 1.0), ('target', 1.0, None, 1.0), ('all', 0.6666666666666666, 1.0, 1.0)]
        """
        rows = []
        # A layout without sections has section None: shown as "-", never as "None".
        keys = sorted({(r["machine"], r["section"]) for r in self.results}, key=lambda k: (k[0], str(k[1])))
        for machine, section in keys:
            clips = [r for r in self.results if r["machine"] == machine and r["section"] == section]
            domains = [d for d in DOMAINS if any(r["domain"] == d for r in clips)]
            for condition in [*domains, "all"]:
                chosen = [r for r in clips if condition == "all" or r["domain"] == condition]
                normal = [r for r in chosen if r["label"] == "normal"]
                anomalous = [r for r in chosen if r["label"] == "anomaly"]
                every_anomaly = [r for r in clips if r["label"] == "anomaly"]
                scored = normal + every_anomaly
                labels = [int(r["label"] == "anomaly") for r in scored]
                both = normal and every_anomaly
                rows.append(
                    {
                        "machine": machine,
                        "section": section,
                        "condition": condition,
                        "n_normal": len(normal),
                        "n_anomaly": len(anomalous),
                        "AUC": auc(labels, [r["score"] for r in scored]) if both else None,
                        "pAUC": pauc(labels, [r["score"] for r in scored]) if both else None,
                        "false_alarm_rate": float(np.mean([r["decision"] for r in normal])) if normal else None,
                        "detection_rate": float(np.mean([r["decision"] for r in anomalous])) if anomalous else None,
                    }
                )
        return rows

    def summary(self):
        """Mean AUC and pAUC over sections, and the official score, as a dict."""
        return {
            "AUC (mean)": arithmetic_mean([row["AUC"] for row in self.sections]),
            "pAUC (mean)": arithmetic_mean([row["pAUC"] for row in self.sections]),
            "official score" if self.year else "hmean(AUC, pAUC)": self.score,
        }


def evaluate(table, make_detector, year=None, seed=0, progress=False, on_section=None):
    """Fit one detector per machine and section, score the test clips, compute the figures.

    Parameters
    ----------
    table : ClipTable
        Clips with machine, section, split and label (see :mod:`audioad.datasets`).
    make_detector : callable
        Returns a new, unfitted detector; called once per machine and section.
    year : int or None
        DCASE year of the official score (2020-2025). ``None``: 2023's rule
        when the clips have domains, else the harmonic mean of AUC and pAUC.
    seed : int
        Seed of :func:`split_by_group` for data without a split.
    progress : bool
        Progress bars while fitting and scoring.
    on_section : callable or None
        Called as ``on_section(machine, section, detector, test_table, scores)``
        after each section is scored (to write its result files).

    Returns
    -------
    Evaluation
    """
    results, thresholds, training = [], {}, {}
    for machine in table.machines:
        for section in table.filter(machine=machine).sections:
            clips = table.filter(machine=machine, section=section)
            if any(c.split for c in clips):
                train = clips.filter(split="train").filter(label=["normal", None])
                test = clips.filter(split="test")
            else:
                train, test = split_by_group(clips, seed)
            test = ClipTable(c for c in test if c.label is not None)
            if not len(train) or not len(test):
                raise ValueError(f"{machine} section {section}: needs training clips and labelled test clips")
            detector = make_detector().fit(train.paths, progress=progress)
            scores = detector.decision_function(test.paths, progress=progress)
            thresholds[(machine, section)] = detector.threshold_
            training[(machine, section)] = list(train.paths)
            if on_section is not None:
                on_section(machine, section, detector, test, scores)
            for clip, value in zip(test, scores):
                results.append(
                    {
                        "path": clip.path,
                        "machine": machine,
                        "section": section,
                        "domain": clip.domain,
                        "label": clip.label,
                        "score": float(value),
                        "decision": int(value > detector.threshold_),
                    }
                )
    sections = section_table(results)
    if year is None and any(r["domain"] for r in results):
        year = 2023
    if year is not None:
        value = official_score(results, year)
    else:
        value = harmonic_mean([row[key] for row in sections for key in ("AUC", "pAUC")])
    return Evaluation(results, sections, year, value, thresholds, training)
