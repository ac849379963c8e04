"""Evaluate a detector on a dataset as DCASE does: one model per machine and section.

For every machine and section of a :class:`~audioad.datasets.ClipTable`, a
new detector is fitted on the normal clips of the train split and scores the
test split; the scores make the per-section AUC / pAUC table and the year's
official score. Data without a train/test split (MIMII, manifests, ``normal/``
+ ``anomaly/`` folders) is split as a user meets it, in time: the normal
recordings (``group`` attribute, or each clip alone) in recording order are
cut into two contiguous blocks, the earlier trains, the later and every
anomalous clip test (:func:`split_in_time`), and test clips whose samples are
those of a training clip are dropped (:func:`clip_fingerprint`). A random
split would put neighbouring seconds of one session on both sides and measure
memory rather than detection.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from .datasets import ClipTable
from .datasets.table import section_name
from .metrics import DOMAINS, arithmetic_mean, auc, harmonic_mean, official_score, pauc, section_table

__all__ = [
    "Evaluation",
    "evaluate",
    "split_in_time",
    "split_table_in_time",
    "recording_order",
    "clip_fingerprint",
    "CONDITION_COLUMNS",
]

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

#: Which block of the normal recordings trains: the ``earlier`` (the test is later, as a user meets
#: it) or the ``later`` (the other direction, for a mean over both).
TRAIN_ON = ("earlier", "later")


def recording_order(name) -> tuple:
    """Sort key of a recording's name in recording order: its numbers compared as numbers.

    Timestamps (``ON_20200318T204454``) and file numbers (``normal_9`` before ``normal_10``)
    then sort in the order they were recorded.

    Examples
    --------
    >>> sorted(["normal_10", "normal_9", "normal_1"], key=recording_order)
    ['normal_1', 'normal_9', 'normal_10']
    """
    parts = re.split(r"(\d+)", str(name))
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts if part)


def split_in_time(labels, groups, strata=None, train_on="earlier"):
    """Cut the normal recordings into two contiguous blocks in recording order: (train, test) clip indices.

    Within each stratum (a motor, a recording session; one stratum without ``strata``), the
    normal recordings sorted by :func:`recording_order` of their group are cut in two: the first
    ``n // 2`` recordings and the rest. With ``train_on='earlier'`` the normal clips of the first
    block train and those of the second test; ``'later'`` swaps the blocks. Every anomalous clip
    tests. A recording never has clips on both sides.

    Parameters
    ----------
    labels : sequence of {0, 1} or {'normal', 'anomaly', None}
        1 or ``'anomaly'`` for anomalous clips; None (unlabelled) clips are on neither side.
    groups : sequence of str
        The recording each clip was cut from (a clip alone: its path or number).
    strata : sequence of str or None
        What each clip's recording belongs to, split on its own (e.g. the motor), or None.
    train_on : {'earlier', 'later'}
        Which block trains.

    Returns
    -------
    train, test : list of int
        Indices into ``labels``, each in its original order.

    Examples
    --------
    >>> labels = [0, 0, 0, 0, 1]
    >>> groups = ["rec_2", "rec_1", "rec_10", "rec_1", "fault_1"]
    >>> split_in_time(labels, groups)
    ([1, 3], [0, 2, 4])
    >>> split_in_time(labels, groups, train_on="later")
    ([0, 2], [1, 3, 4])
    """
    if train_on not in TRAIN_ON:
        raise ValueError(f"train_on must be one of {TRAIN_ON}, got {train_on!r}")
    labels = [_is_anomalous(label) for label in labels]
    strata = [None] * len(labels) if strata is None else list(strata)
    first_block = set()
    for stratum in dict.fromkeys(strata):
        normal = sorted(
            {g for g, s, a in zip(groups, strata, labels) if s == stratum and a is False}, key=recording_order
        )
        first_block.update(normal[: len(normal) // 2])
    train, test = [], []
    for i, (group, anomalous) in enumerate(zip(groups, labels)):
        if anomalous is None:
            continue
        if anomalous or (group in first_block) != (train_on == "earlier"):
            test.append(i)
        else:
            train.append(i)
    return train, test


def _is_anomalous(label):
    if label is None:
        return None
    return label in (1, "anomaly", True)


def clip_fingerprint(waveform) -> str:
    """A hash of a clip's samples: equal for clips with the same samples, whatever their file.

    Examples
    --------
    >>> import numpy as np
    >>> clip = np.zeros(100, np.float32)
    >>> clip_fingerprint(clip) == clip_fingerprint(clip.copy()), clip_fingerprint(clip) == clip_fingerprint(clip[:50])
    (True, False)
    """
    samples = np.ascontiguousarray(waveform, dtype=np.float32)
    return hashlib.sha1(str(samples.shape).encode() + samples.tobytes()).hexdigest()


def split_table_in_time(table, train_on="earlier"):
    """:func:`split_in_time` of a table's clips, without test clips identical to a training clip.

    A clip's recording is its ``group`` attribute, else the clip alone (its path). Every clip is
    decoded once (at its own rate) to compare samples.

    Returns
    -------
    train, test : ClipTable
    description : str
        Which split was made, in words, for the console and the report.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from audioad.datasets import ClipInfo, ClipTable
    >>> folder = tempfile.mkdtemp()
    >>> clips = []
    >>> for i, label in enumerate(["normal"] * 4 + ["anomaly"]):
    ...     level = 0.5 if label == "anomaly" else 0.1 * (i % 3)  # 3.wav has the samples of 0.wav
    ...     sf.write(f"{folder}/{i}.wav", np.full(800, level, np.float32), 8000)
    ...     clips.append(ClipInfo(f"{folder}/{i}.wav", "fan", label=label))
    >>> train, test, said = split_table_in_time(ClipTable(clips))
    >>> [c.path[-5:] for c in train], [c.path[-5:] for c in test]
    (['0.wav', '1.wav'], ['2.wav', '4.wav'])
    >>> for part in said.split(", "):
    ...     print(part)
    split in time: trained on the earlier 2 of 4 normal recordings (2 clips)
    tested on the later 2 (2 clips) and 1 anomalous clip; 1 test clip identical to a training clip dropped
    """
    from .audio import load_audio

    clips = list(table)
    groups = [c.attributes.get("group", c.path) for c in clips]
    train, test = split_in_time([c.label for c in clips], groups, train_on=train_on)
    seen = {clip_fingerprint(load_audio(clips[i].path)[0]) for i in train}
    kept = [i for i in test if clip_fingerprint(load_audio(clips[i].path)[0]) not in seen]
    dropped = len(test) - len(kept)
    normal_groups = {groups[i] for i in range(len(clips)) if clips[i].label == "normal"}
    trained_groups = {groups[i] for i in train}
    tested_normal = [i for i in test if clips[i].label == "normal"]
    other = "later" if train_on == "earlier" else "earlier"
    n_anomalous = sum(clips[i].label == "anomaly" for i in test)
    description = (
        f"split in time: trained on the {train_on} {len(trained_groups)} of {len(normal_groups)} normal recordings "
        f"({len(train)} clips), tested on the {other} {len(normal_groups) - len(trained_groups)} "
        f"({len(tested_normal)} clips) and {n_anomalous} anomalous clip{'' if n_anomalous == 1 else 's'}"
    )
    if dropped:
        description += f"; {dropped} test clip{'s' if dropped > 1 else ''} identical to a training clip dropped"
    return ClipTable(clips[i] for i in train), ClipTable(clips[i] for i in kept), description


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
    splits : dict
        ``(machine, section) -> description`` of the split made where the data had none
        (:func:`split_table_in_time`); empty where every section had its own split.
    """

    results: list
    sections: list
    year: int | None
    score: float
    thresholds: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    splits: dict = field(default_factory=dict)

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


def evaluate(table, make_detector, year=None, train_on="earlier", progress=False, on_section=None):
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
    train_on : {'earlier', 'later'}
        For data without a split, which block of the normal recordings in recording order
        trains (:func:`split_table_in_time`); the other tests, with every anomalous clip.
    progress : bool
        Progress bars while fitting and scoring.
    on_section : callable or None
        Called as ``on_section(machine, section, detector, test_table, scores)``
        after each section is scored (to write its result files).

    Returns
    -------
    Evaluation
    """
    results, thresholds, training, splits = [], {}, {}, {}
    for machine in table.machines:
        for section in table.filter(machine=machine).sections:
            clips = table.filter(machine=machine, section=section)
            if any(c.split for c in clips):
                train = clips.filter(split="train").filter(label=["normal", None])
                test = clips.filter(split="test")
            else:
                train, test, splits[(machine, section)] = split_table_in_time(clips, train_on)
            test = ClipTable(c for c in test if c.label is not None)
            if not len(train) or not len(test):
                raise ValueError(f"{section_name(machine, section)}: needs training clips and labelled test clips")
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
    return Evaluation(results, sections, year, value, thresholds, training, splits)
