"""Detection metrics of anomalous sound detection: AUC, pAUC, per-section tables and DCASE scores.

Labels are 0 = normal, 1 = anomaly (bools and the strings ``'normal'``/``'anomaly'`` are accepted
too); scores are higher = more abnormal. pAUC is the McClish-standardised partial AUC of
``sklearn.metrics.roc_auc_score(..., max_fpr=0.1)``, the number every DCASE task 2 evaluator reports.

Test results come as a table with one row per test clip and the columns ``machine``, ``section``,
``domain`` (``'source'``, ``'target'``, or ``None`` for 2020/2021-style data without domains;
the column may be left out), ``label`` and ``score``. Either form is accepted:

- a list of dicts, one per clip: ``[{"machine": "fan", "section": "00", ...}, ...]``;
- a dict of columns: ``{"machine": [...], "section": [...], "label": [...], "score": [...]}``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from audioad.datasets.table import LABELS
from audioad.thresholds import check_scores

MAX_FPR = 0.1
YEARS = range(2020, 2026)
DOMAINS = ("source", "target")
COLUMNS = ("machine", "section", "AUC", "AUC-source", "AUC-target", "pAUC", "n_normal", "n_anomaly")
_RESULT_COLUMNS = ("machine", "section", "domain", "label", "score")


def check_labels(y_true) -> np.ndarray:
    """Return ground-truth labels as an int8 array of 0 (normal) and 1 (anomaly).

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0/1, bools, or the label names of :data:`audioad.datasets.LABELS`
        (``'normal'``/``'anomaly'``), mixed as they come.

    Returns
    -------
    labels : ndarray of int8
        1 for anomaly, 0 for normal.

    Raises
    ------
    ValueError
        If a label is none of these (the message shows the first few).

    Examples
    --------
    >>> check_labels(["normal", "anomaly", 1, False])
    array([0, 1, 1, 0], dtype=int8)
    >>> check_labels(["normal", "broken"])
    Traceback (most recent call last):
    ...
    ValueError: labels must be 0/1, bool, or 'normal'/'anomaly'; got 'broken'
    """
    labels = np.asarray(y_true)
    if labels.dtype.kind in "biuf" and np.isin(labels, (0, 1)).all():
        return labels.astype(np.int8)
    # Object dtype keeps a mix of 0/1 and words as they are; a plain array would turn 0 into '0'.
    values = np.asarray(y_true, dtype=object).ravel()
    try:
        return np.array([LABELS[v] if isinstance(v, str) else {0: 0, 1: 1}[v] for v in values], dtype=np.int8)
    except (KeyError, TypeError):
        unknown = sorted({repr(v) for v in values if not (v in LABELS or v in (0, 1))})
        raise ValueError(f"labels must be 0/1, bool, or 'normal'/'anomaly'; got {', '.join(unknown[:5])}") from None


def check_labels_and_scores(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Return labels and scores checked for a ROC curve: one of each per clip, both labels present.

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0 = normal, 1 = anomaly; bools and ``'normal'``/``'anomaly'`` are accepted (see
        :func:`check_labels`).
    y_score : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal; finite (see :func:`audioad.thresholds.check_scores`).

    Returns
    -------
    labels : ndarray of int8
    scores : ndarray of float64

    Raises
    ------
    ValueError
        If a label or score is invalid, their counts differ, or all clips have the same label.

    Examples
    --------
    >>> check_labels_and_scores(["normal", "anomaly"], [0.2, 0.9])
    (array([0, 1], dtype=int8), array([0.2, 0.9]))
    >>> check_labels_and_scores([0, 0], [0.2, 0.9])
    Traceback (most recent call last):
    ...
    ValueError: AUC needs both normal and anomalous clips; got only 2 normal clips
    """
    labels = check_labels(y_true)
    scores = check_scores(y_score, name="y_score")
    if labels.shape != scores.shape:
        raise ValueError(
            f"y_true has {labels.size} labels but y_score has {scores.size} scores; pass one of each per clip"
        )
    n_anomaly = int(labels.sum())
    if n_anomaly in (0, labels.size):
        kind = "normal" if n_anomaly == 0 else "anomalous"
        raise ValueError(f"AUC needs both normal and anomalous clips; got only {labels.size} {kind} clips")
    return labels, scores


def auc(y_true, y_score) -> float:
    """Area under the ROC curve of anomaly scores.

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0 = normal, 1 = anomaly; bools and ``'normal'``/``'anomaly'`` are accepted.
    y_score : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal.

    Returns
    -------
    auc : float
        Equal to ``sklearn.metrics.roc_auc_score(y_true, y_score)``.

    Raises
    ------
    ValueError
        If only one class is present, the lengths differ, or a score is NaN or infinite.

    Examples
    --------
    >>> auc(["normal", "normal", "anomaly", "anomaly"], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    labels, scores = check_labels_and_scores(y_true, y_score)
    return float(roc_auc_score(labels, scores))


def rates_at(y_true, y_score, threshold) -> tuple[float, float]:
    """False-alarm rate and detection rate of the labels a threshold gives (score above it: anomalous).

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0 = normal, 1 = anomaly; bools and ``'normal'``/``'anomaly'`` are accepted.
    y_score : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal.
    threshold : float
        A detector's ``threshold_``.

    Returns
    -------
    (float, float)
        The share of normal clips above the threshold (false alarms) and the share of anomalous
        clips above it (detections); NaN where there are no clips of that class.

    Examples
    --------
    >>> rates_at([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.6, 0.3, 0.9, 0.4], threshold=0.5)
    (0.25, 0.5)
    """
    labels = check_labels(y_true).ravel()
    scores = check_scores(y_score, name="y_score")
    if labels.shape != scores.shape:
        raise ValueError(f"got {labels.size} labels but {scores.size} scores; pass one label per score")
    flagged = scores > float(threshold)
    normal, anomalous = flagged[labels == 0], flagged[labels == 1]
    return (
        float(normal.mean()) if normal.size else float("nan"),
        float(anomalous.mean()) if anomalous.size else float("nan"),
    )


def pauc(y_true, y_score, max_fpr: float = MAX_FPR) -> float:
    """Partial AUC over false-positive rates in [0, max_fpr], McClish-standardised as DCASE reports it.

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0 = normal, 1 = anomaly; bools and ``'normal'``/``'anomaly'`` are accepted.
    y_score : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal.
    max_fpr : float, default 0.1
        Largest false-positive rate, in (0, 1]; DCASE uses 0.1. ``max_fpr=1`` gives the AUC.

    Returns
    -------
    pauc : float
        Equal to ``sklearn.metrics.roc_auc_score(y_true, y_score, max_fpr=max_fpr)``: 0.5 for
        chance, 1 for a perfect detector.

    Examples
    --------
    >>> round(pauc([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.9, 0.35], max_fpr=0.25), 3)
    0.714
    """
    if not 0.0 < max_fpr <= 1.0:
        raise ValueError(f"max_fpr must be in (0, 1], e.g. 0.1 as DCASE uses; got {max_fpr!r}")
    labels, scores = check_labels_and_scores(y_true, y_score)
    return float(roc_auc_score(labels, scores, max_fpr=max_fpr))


def _check_values(values, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        raise ValueError(f"the {what} needs at least one value; got none")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"the {what} is of non-negative finite values (AUCs, pAUCs); got {values.tolist()}")
    return values


def arithmetic_mean(values) -> float:
    """Arithmetic mean of AUCs or pAUCs.

    Parameters
    ----------
    values : array-like
        Non-negative finite values.

    Returns
    -------
    mean : float

    Examples
    --------
    >>> arithmetic_mean([0.9, 0.6, 0.6])
    0.7
    """
    return float(np.mean(_check_values(values, "arithmetic mean")))


def harmonic_mean(values) -> float:
    """Harmonic mean of AUCs or pAUCs, as the DCASE 2021-2025 evaluators compute it.

    The evaluators call ``scipy.stats.hmean(numpy.maximum(values, sys.float_info.epsilon))``:
    a value of 0 is raised to machine epsilon, so one useless section pulls the mean to about 0
    instead of raising an error. This function does the same.

    Parameters
    ----------
    values : array-like
        Non-negative finite values.

    Returns
    -------
    mean : float

    Examples
    --------
    >>> harmonic_mean([0.5, 1.0])
    0.6666666666666666
    """
    values = _check_values(values, "harmonic mean")
    return float(stats.hmean(np.maximum(values, sys.float_info.epsilon)))


def _columns(results) -> dict[str, np.ndarray]:
    if isinstance(results, Mapping):
        columns = dict(results)
    else:
        rows = list(results)
        if rows and not all(isinstance(row, Mapping) for row in rows):
            raise TypeError("results must be a list of dicts (one per clip) or a dict of columns")
        columns = {key: [row.get(key) for row in rows] for key in _RESULT_COLUMNS}
    missing = [key for key in ("machine", "section", "label", "score") if key not in columns]
    if missing:
        raise ValueError(f"results lack the column(s) {missing}; each clip needs machine, section, label and score")
    n_clips = len(columns["score"])
    if n_clips == 0:
        raise ValueError("results are empty; score some test clips first")
    columns.setdefault("domain", [None] * n_clips)
    lengths = {key: len(columns[key]) for key in _RESULT_COLUMNS}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"result columns differ in length: {lengths}; give every clip every column")
    table = {key: np.asarray(columns[key], dtype=object) for key in ("machine", "section", "domain")}
    unknown = {repr(d) for d in table["domain"] if d not in (None, *DOMAINS)}
    if unknown:
        raise ValueError(f"domain must be 'source', 'target' or None; got {', '.join(sorted(unknown))}")
    table["label"] = check_labels(columns["label"])
    table["score"] = check_scores(columns["score"], name="scores")
    return table


def _keys(column: np.ndarray) -> list:
    return sorted(set(column.tolist()), key=str)


def _sections(table: dict[str, np.ndarray]):
    """Yield (machine, section, mask of its clips) in sorted order."""
    for machine in _keys(table["machine"]):
        of_machine = table["machine"] == machine
        for section in _keys(table["section"][of_machine]):
            yield machine, section, of_machine & (table["section"] == section)


def _in_context(where: str, metric, *args, **kwargs) -> float:
    try:
        return metric(*args, **kwargs)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def _has_domains(domain: np.ndarray, where: str) -> bool:
    known = domain != None  # noqa: E711 -- elementwise on an object array
    if known.any() and not known.all():
        raise ValueError(f"{where}: {int((~known).sum())} clips have no domain while others do; label all or none")
    return bool(known.all())


def section_table(results, max_fpr: float = MAX_FPR) -> list[dict]:
    """AUC and pAUC of each machine and section, per domain as DCASE 2022-2025 define them.

    Parameters
    ----------
    results : list of dicts or dict of columns
        One row per test clip with ``machine``, ``section``, ``label``, ``score`` and optionally
        ``domain`` (see the module docstring).
    max_fpr : float, default 0.1
        Largest false-positive rate of the pAUC.

    Returns
    -------
    rows : list of dict
        One per (machine, section), sorted, with the keys of :data:`COLUMNS`:

        - ``AUC``: all clips of the section;
        - ``AUC-source``: source-domain normal clips against *all* anomalous clips of the section
          (both domains), as the 2022-2025 evaluators compute it; ``AUC-target`` likewise;
          both ``None`` for data without domains;
        - ``pAUC``: all clips of the section, both domains;
        - ``n_normal``, ``n_anomaly``: clip counts.

    Examples
    --------
    >>> results = {
    ...     "machine": ["fan"] * 6,
    ...     "section": ["00"] * 6,
    ...     "domain": ["source", "source", "target", "target", "source", "target"],
    ...     "label": [0, 0, 0, 0, 1, 1],
    ...     "score": [0.1, 0.2, 0.6, 0.7, 0.5, 0.8],
    ... }
    >>> row = section_table(results)[0]
    >>> row["AUC-source"], row["AUC-target"], row["AUC"]
    (1.0, 0.5, 0.75)
    """
    table = _columns(results)
    rows = []
    for machine, section, clips in _sections(table):
        label, score, domain = table["label"][clips], table["score"][clips], table["domain"][clips]
        where = f"machine {machine!r} section {section!r}"
        row = {
            "machine": machine,
            "section": section,
            "AUC": _in_context(where, auc, label, score),
            "AUC-source": None,
            "AUC-target": None,
            "pAUC": _in_context(where, pauc, label, score, max_fpr=max_fpr),
            "n_normal": int((label == 0).sum()),
            "n_anomaly": int((label == 1).sum()),
        }
        if _has_domains(domain, where):
            for name in DOMAINS:
                kept = (domain == name) | (label == 1)
                row[f"AUC-{name}"] = _in_context(f"{where} domain {name!r}", auc, label[kept], score[kept])
        rows.append(row)
    return rows


def _within_domain_scores(table: dict[str, np.ndarray]) -> list[float]:
    values = []
    for machine, section, clips in _sections(table):
        where = f"machine {machine!r} section {section!r}"
        if not _has_domains(table["domain"][clips], where):
            raise ValueError(f"{where}: the 2021 score is per domain; give each clip its domain")
        for name in DOMAINS:
            kept = clips & (table["domain"] == name)
            label, score = table["label"][kept], table["score"][kept]
            in_domain = f"{where} domain {name!r}"
            values += [_in_context(in_domain, auc, label, score), _in_context(in_domain, pauc, label, score)]
    return values


def official_score(results, year: int, *, by_machine: bool = False) -> float | dict:
    """The official score of a DCASE task 2 year, from clip-level test results.

    pAUC uses ``max_fpr=0.1`` throughout, as every year did.

    - **2020**: the task reported, per machine type, the arithmetic mean over its sections
      (machine IDs) of the AUC and of the pAUC, and ranked teams by their average rank on those
      numbers, which needs the other teams. Returned here: per machine type the arithmetic mean
      of those two averages, and over machine types the arithmetic mean of that.
    - **2021**: AUC and pAUC of every machine type, section and domain, each computed *within*
      the domain (its normal clips against its own anomalous clips); the score is the harmonic
      mean of all those AUCs and pAUCs together.
    - **2022-2025**: per machine type and section, AUC-source and AUC-target (that domain's
      normal clips against all anomalous clips of the section) and pAUC (all clips of the
      section); the score is the harmonic mean of all of them over all machine types and
      sections, as the evaluators' ``official score`` line computes it.

    Harmonic means follow :func:`harmonic_mean` (values floored at machine epsilon, as the
    evaluators do). 2021-2025 need the ``domain`` column.

    Parameters
    ----------
    results : list of dicts or dict of columns
        One row per test clip (see the module docstring).
    year : int
        DCASE year, 2020 to 2025.
    by_machine : bool, default False
        If True, return ``{machine: score}``, the year's rule applied to each machine type alone.

    Returns
    -------
    score : float, or dict of machine type to float

    Examples
    --------
    >>> results = {
    ...     "machine": ["fan"] * 6,
    ...     "section": ["00"] * 6,
    ...     "domain": ["source", "source", "target", "target", "source", "target"],
    ...     "label": [0, 0, 0, 0, 1, 1],
    ...     "score": [0.1, 0.2, 0.6, 0.7, 0.5, 0.8],
    ... }
    >>> section_table(results)[0]["pAUC"]
    0.737
    >>> official_score(results, 2023)  # harmonic mean of 1.0, 0.5 and 0.737
    0.689
    """
    if year not in YEARS:
        raise ValueError(f"year must be a DCASE task 2 year from {YEARS[0]} to {YEARS[-1]}; got {year!r}")
    table = _columns(results)
    if by_machine:
        return {
            machine: official_score({key: column[table["machine"] == machine] for key, column in table.items()}, year)
            for machine in _keys(table["machine"])
        }
    if year == 2021:
        return harmonic_mean(_within_domain_scores(table))
    rows = section_table(table)
    if year == 2020:
        per_machine = []
        for machine in _keys(table["machine"]):
            own = [row for row in rows if row["machine"] == machine]
            per_machine.append(
                (arithmetic_mean([r["AUC"] for r in own]) + arithmetic_mean([r["pAUC"] for r in own])) / 2
            )
        return arithmetic_mean(per_machine)
    if any(row["AUC-source"] is None for row in rows):
        raise ValueError(f"the {year} score needs AUC-source and AUC-target; give each clip its domain")
    return harmonic_mean(
        [row["AUC-source"] for row in rows] + [row["AUC-target"] for row in rows] + [row["pAUC"] for row in rows]
    )


def format_table(rows: list[dict], *, decimals: int = 3, columns=COLUMNS) -> str:
    """Format :func:`section_table` rows as aligned text for the command line.

    Columns that are ``None`` in every row (the domain AUCs of data without domains) are left
    out; a ``None`` among numbers prints as ``-``.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`section_table`.
    decimals : int, default 3
        Digits after the decimal point.
    columns : sequence of str
        The columns, in order (:data:`COLUMNS` by default).

    Returns
    -------
    text : str

    Examples
    --------
    >>> rows = [{"machine": "fan", "section": "00", "AUC": 0.625, "AUC-source": None,
    ...          "AUC-target": None, "pAUC": 0.5, "n_normal": 4, "n_anomaly": 2}]
    >>> print(format_table(rows))
    machine  section    AUC   pAUC  n_normal  n_anomaly
    fan      00       0.625  0.500         4          2
    """
    columns = [c for c in columns if any(row.get(c) is not None for row in rows)]

    def cell(value) -> str:
        if value is None:
            return "-"
        if isinstance(value, (float, np.floating)):
            return f"{value:.{decimals}f}"
        return str(value)

    cells = [list(columns)] + [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    text_columns = {"machine", "section", "condition"}
    lines = [
        "  ".join(
            value.ljust(width) if column in text_columns else value.rjust(width)
            for value, width, column in zip(line, widths, columns)
        ).rstrip()
        for line in cells
    ]
    return "\n".join(lines)
