"""DCASE result files: one section's anomaly scores (and decisions) in the submission format."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

__all__ = ["write_dcase_results"]


def write_dcase_results(out_dir, machine: str, section, filenames, scores, decisions=None) -> list[Path]:
    """Write one section's scores (and decisions) as DCASE submission CSV files.

    Parameters
    ----------
    out_dir : str or Path
        The folder to write into; created if missing.
    machine : str
        Machine type, as in the file name (``'fan'``).
    section : int or str
        Section number; ints are written with two digits (``3`` -> ``section_03``).
    filenames : sequence of str or Path
        The test clips; only their base names are written.
    scores : array-like of float
        Anomaly scores, higher = more abnormal, one per clip.
    decisions : array-like of {0, 1} or bool, optional
        Normal (0) / anomaly (1) decisions, one per clip.

    Returns
    -------
    list of Path
        ``anomaly_score_<machine>_section_<NN>_test.csv`` (rows ``filename,score``, no header)
        and, with decisions, ``decision_result_<machine>_section_<NN>_test.csv`` (``filename,0|1``).

    Examples
    --------
    >>> import tempfile
    >>> written = write_dcase_results(tempfile.mkdtemp(), "fan", 0, ["/d/a.wav", "/d/b.wav"],
    ...                               [0.25, 1.5], decisions=[0, 1])
    >>> [p.name for p in written]
    ['anomaly_score_fan_section_00_test.csv', 'decision_result_fan_section_00_test.csv']
    >>> print(written[0].read_text().strip())
    a.wav,0.25
    b.wav,1.5
    """
    names = [os.path.basename(str(name)) for name in filenames]
    scores = np.asarray(scores, dtype=float).ravel()
    if len(scores) != len(names):
        raise ValueError(f"got {len(scores)} scores for {len(names)} files; pass one score per file")
    section_name = f"{section:02d}" if isinstance(section, (int, np.integer)) else str(section)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {"anomaly_score": [(name, repr(float(score))) for name, score in zip(names, scores)]}
    if decisions is not None:
        decisions = np.asarray(decisions).ravel()
        if len(decisions) != len(names) or not np.isin(decisions, (0, 1)).all():
            raise ValueError(f"decisions must be {len(names)} values of 0 (normal) or 1 (anomaly), one per file")
        rows["decision_result"] = [(name, str(int(d))) for name, d in zip(names, decisions)]
    written = []
    for kind, kind_rows in rows.items():
        path = out_dir / f"{kind}_{machine}_section_{section_name}_test.csv"
        with open(path, "w", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(kind_rows)
        written.append(path)
    return written
