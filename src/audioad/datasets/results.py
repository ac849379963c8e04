"""DCASE result files: one section's anomaly scores (and decisions) in the submission format."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ..outputs import atomic_path, csv_cell, safe_component

__all__ = ["write_dcase_results"]


def write_dcase_results(out_dir, machine: str, section, filenames, scores, decisions=None, root=None) -> list[Path]:
    """Write one section's scores (and decisions) as DCASE submission CSV files.

    Parameters
    ----------
    out_dir : str or Path
        The folder to write into; created if missing.
    machine : str
        Machine type, as in the file name (``'fan'``); a name that is not one safe file name
        (``m/../x``) is cleaned by :func:`audioad.outputs.safe_component`.
    section : int or str or None
        Section number; ints are written with two digits (``3`` -> ``section_03``), text is
        cleaned as ``machine`` is. None (data without sections, such as a manifest) leaves the
        section out of the file names.
    filenames : sequence of str or Path
        The test clips. Without ``root``, their base names are written, as DCASE's evaluators
        expect; with it, their paths relative to ``root`` (``/`` between folders).
    scores : array-like of float
        Anomaly scores, higher = more abnormal, one per clip.
    decisions : array-like of {0, 1} or bool, optional
        Normal (0) / anomaly (1) decisions, one per clip.
    root : str or Path, optional
        The data set's folder, for data whose base names do not say which file they are
        (``M1/1850.wav`` and ``M2/1850.wav``).

    Returns
    -------
    list of Path
        ``anomaly_score_<machine>_section_<NN>_test.csv`` (rows ``filename,score``, no header)
        and, with decisions, ``decision_result_<machine>_section_<NN>_test.csv`` (``filename,0|1``);
        ``anomaly_score_<machine>_test.csv`` and so on without a section. A file name that a
        spreadsheet would take for a formula is written as :func:`audioad.outputs.csv_cell` makes it.

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
    >>> written = write_dcase_results(tempfile.mkdtemp(), "motor", None, ["/d/M1/1850.wav", "/d/M2/1850.wav"],
    ...                               [0.25, 1.5], root="/d")
    >>> written[0].name, written[0].read_text().split()
    ('anomaly_score_motor_test.csv', ['M1/1850.wav,0.25', 'M2/1850.wav,1.5'])
    """
    if root is None:
        names = [os.path.basename(str(name)) for name in filenames]
    else:
        names = [Path(os.path.relpath(name, root)).as_posix() for name in filenames]
    scores = np.asarray(scores, dtype=float).ravel()
    if len(scores) != len(names):
        raise ValueError(f"got {len(scores)} scores for {len(names)} files; pass one score per file")
    if section is None:
        section_part = ""
    else:
        number = isinstance(section, (int, np.integer))
        section_part = f"_section_{section:02d}" if number else f"_section_{safe_component(section)}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [csv_cell(name) for name in names]
    rows = {"anomaly_score": [(name, repr(float(score))) for name, score in zip(names, scores)]}
    if decisions is not None:
        decisions = np.asarray(decisions).ravel()
        if len(decisions) != len(names) or not np.isin(decisions, (0, 1)).all():
            raise ValueError(f"decisions must be {len(names)} values of 0 (normal) or 1 (anomaly), one per file")
        rows["decision_result"] = [(name, str(int(d))) for name, d in zip(names, decisions)]
    written = []
    for kind, kind_rows in rows.items():
        path = out_dir / f"{kind}_{safe_component(machine)}{section_part}_test.csv"
        # Written beside the target and renamed over it: a crash never leaves half a result file.
        with atomic_path(path) as part, open(part, "w", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(kind_rows)
        written.append(path)
    return written
