"""Which clips were cut from one recording, inferred from their file names where nobody said.

A train/test split must keep the clips of one recording on one side, or the score is inflated.
A manifest says so with its ``group`` column; where it has none (or the data set is a plain
``normal/`` + ``anomaly/`` folder), :func:`infer_groups` reads the recording off the file name:
the stem before a trailing segment number (``ON_20200318T204454_3.wav`` ->
``ON_20200318T204454``), within the file's folder.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path

from .table import LABEL_SPELLINGS

__all__ = ["GroupWarning", "infer_groups"]

# A stem, then a separator, an optional segment word and the segment number that ends the name.
_SEGMENTED_NAME = re.compile(r"^(.+?)[ _.-]+(?:(?:seg|segment|part|chunk|clip)[ _.-]*)?\d+$", re.IGNORECASE)


class GroupWarning(UserWarning):
    """A data set without a train/test split says nothing of which clips come from one recording."""


def _recording(path: Path, root: Path) -> str | None:
    match = _SEGMENTED_NAME.match(path.stem)
    if match is None:
        return None
    stem = match.group(1)
    # 'normal_12', 'fault_3' in a folder 'fault/': a class name numbered, not a recording cut in segments.
    if stem.lower() in LABEL_SPELLINGS or stem.lower() == path.parent.name.lower():
        return None
    return (path.parent.relative_to(root) / stem).as_posix()


def infer_groups(paths, labels, root, source) -> list[str | None]:
    """The recording each clip was cut from, read off its file name; warns with what was inferred.

    Parameters
    ----------
    paths : sequence of str
        The clips, absolute paths under ``root``.
    labels : sequence of {'normal', 'anomaly', None}
        Their labels.
    root : str or Path
        The data set's folder; a recording is named by its folder relative to it and its stem.
    source : str
        What the clips came from, for the warning (``'manifest x.csv'``).

    Returns
    -------
    list of str or None
        One group per clip; None where the clip is taken as a recording of its own. All None when
        no clip shares a recording with another, or when grouping would leave fewer than two
        normal recordings to split.

    Warns
    -----
    GroupWarning
        Always: clips of one recording may land on both sides of a split, and what was inferred.

    Examples
    --------
    >>> import warnings
    >>> names = ["/d/on/ON_2020_1.wav", "/d/on/ON_2020_2.wav", "/d/on/ON_2021_1.wav", "/d/on/ON_2021_2.wav"]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     infer_groups(names, ["normal"] * 4, "/d", "manifest m.csv")
    ['on/ON_2020', 'on/ON_2020', 'on/ON_2021', 'on/ON_2021']
    """
    root = Path(root)
    groups = [_recording(Path(p), root) for p in paths]
    sizes = Counter(g for g in groups if g is not None)
    normal = {g if g is not None else p for g, p, label in zip(groups, paths, labels) if label != "anomaly"}
    advice = "a manifest with a 'group' column naming each clip's source recording says it for sure"
    if not sizes or max(sizes.values()) < 2 or len(normal) < 2:
        warnings.warn(
            GroupWarning(
                f"{source} says nothing of which clips come from one recording and no recording name could be "
                f"read off the file names: each clip is taken as its own recording, so clips cut from one "
                f"recording may land on both sides of the train/test split and inflate the score; {advice}"
            ),
            stacklevel=3,
        )
        return [None] * len(groups)
    example = max(sizes, key=sizes.get)
    warnings.warn(
        GroupWarning(
            f"{source} says nothing of which clips come from one recording: split by the recording read off "
            f"each file name (the stem before a trailing segment number): {len(paths)} clips from "
            f"{len(sizes) + groups.count(None)} recordings, e.g. {example!r} ({sizes[example]} clips); {advice}"
        ),
        stacklevel=3,
    )
    return groups
