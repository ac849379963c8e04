"""One table of clips: a row per clip with its machine, section, domain, split, label and attributes.

:class:`ClipTable` is what every folder layout is read into (:func:`audioad.datasets.read_dataset`)
and what the synthetic generator returns; :data:`LABELS` is the one table of ground-truth labels.
"""

from __future__ import annotations

import csv
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..outputs import atomic_path

__all__ = ["CLIP_FIELDS", "LABELS", "LABEL_SPELLINGS", "ClipInfo", "ClipTable", "section_name"]

#: The two labels and the integers that stand for them as ground truth (1 = anomaly).
LABELS = {"normal": 0, "anomaly": 1}

#: Every spelling of a label that a manifest's ``label`` cell or a folder name may use, and the
#: label it means: the names and integers of :data:`LABELS`, their synonyms, and an empty cell
#: for an unknown label.
LABEL_SPELLINGS = {
    **{name: name for name in LABELS},
    **{str(value): name for name, value in LABELS.items()},
    "abnormal": "anomaly",
    "anomalous": "anomaly",
    "": None,
}

#: The fields of a :class:`ClipInfo` that a table filters on and a manifest has columns for.
CLIP_FIELDS = ("machine", "section", "domain", "split", "label")


@dataclass(frozen=True)
class ClipInfo:
    """One clip of a data set: where it is and what is known about it.

    Parameters
    ----------
    path : str
        Absolute path of the audio file.
    machine : str
        Machine type (``'fan'``, ``'pump'``, ...), or the manifest's folder name.
    section : str or int or None
        DCASE section (machine id in DCASE 2020 and MIMII), e.g. ``'00'``.
    domain : {'source', 'target'} or None
        DCASE 2021+ domain; None where the layout has none or the file name hides it.
    split : {'train', 'test'} or None
        None where the layout has no split (MIMII, manifests without a ``split`` column).
    label : {'normal', 'anomaly'} or None
        None when unknown, as for DCASE evaluation test clips.
    attributes : dict of str to str
        Attributes from the file name (DCASE 2022+, ``{'speed': '6000'}``), the SNR folder of
        MIMII (``{'snr_db': '-6'}``) or the extra columns of a manifest (``group``, ``condition``).

    Examples
    --------
    >>> clip = ClipInfo("/data/fan/train/x.wav", "fan", "00", "source", "train", "normal")
    >>> clip.label, clip.attributes
    ('normal', {})
    """

    path: str
    machine: str
    section: str | int | None = None
    domain: str | None = None
    split: str | None = None
    label: str | None = None
    attributes: dict = field(default_factory=dict, hash=False)


def section_name(machine, section) -> str:
    """A machine's section as a person reads it: ``fan section 00``, or ``fan`` where there are no sections.

    Examples
    --------
    >>> section_name("fan", "00"), section_name("motor", None)
    ('fan section 00', 'motor')
    """
    return str(machine) if section is None else f"{machine} section {section}"


def _same_section(a, b) -> bool:
    """Sections compare as numbers when both are numbers, so ``0`` selects ``'00'``."""
    if a == b:
        return True
    # only int() can fail: a section that is no number ('abc', None) matches only its equal, above
    try:
        return int(a) == int(b)
    except (TypeError, ValueError):
        return False


def _section_key(section):
    """Sort numeric sections numerically and put the others after them."""
    # only int() can fail: a section that is no number ('abc', None) sorts by its text
    try:
        number = int(section)
    except (TypeError, ValueError):
        return (1, 0, str(section))
    return (0, number, "")


class ClipTable(Sequence):
    """A table of clips: a read-only list of :class:`ClipInfo` with selection helpers.

    Parameters
    ----------
    clips : iterable of ClipInfo
        The rows, kept in the given order.
    layout : str or None
        The folder layout the rows were read from (one of :data:`audioad.datasets.LAYOUTS`, set by
        :func:`~audioad.datasets.read_dataset`); None for a table made otherwise or selected from one.

    Examples
    --------
    >>> table = ClipTable([
    ...     ClipInfo("/d/fan/train/a.wav", "fan", "00", "source", "train", "normal"),
    ...     ClipInfo("/d/fan/test/b.wav", "fan", "00", "source", "test", "anomaly"),
    ...     ClipInfo("/d/pump/test/c.wav", "pump", "01", "source", "test", "normal"),
    ... ])
    >>> len(table), table.machines, table.sections
    (3, ['fan', 'pump'], ['00', '01'])
    >>> test = table.filter(split="test")
    >>> test.labels
    array([1, 0])
    >>> [os.path.basename(p) for p in test.filter(machine="pump", section=1).paths]
    ['c.wav']
    """

    def __init__(self, clips: Iterable[ClipInfo] = (), layout: str | None = None):
        self._clips = tuple(clips)
        self.layout = layout

    def __len__(self) -> int:
        return len(self._clips)

    def __iter__(self) -> Iterator[ClipInfo]:
        return iter(self._clips)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ClipTable(self._clips[index])
        return self._clips[index]

    def __eq__(self, other) -> bool:
        return isinstance(other, ClipTable) and self._clips == other._clips

    def __repr__(self) -> str:
        return f"ClipTable({len(self)} clips, machines={self.machines})"

    def filter(self, **criteria) -> ClipTable:
        """Keep the clips whose fields match every criterion.

        Parameters
        ----------
        **criteria
            ``machine``, ``section``, ``domain``, ``split`` or ``label`` set to one value or to a
            list, tuple or set of accepted values. None is a value too: ``label=None`` keeps the
            unlabelled clips. Sections match as numbers, so ``section=0`` keeps ``'00'``.

        Returns
        -------
        ClipTable
            The matching clips, in their order.

        Examples
        --------
        >>> table = ClipTable([ClipInfo("/a.wav", "fan", "00", split="train"),
        ...                    ClipInfo("/b.wav", "fan", "01", split="test")])
        >>> len(table.filter(section=[0, 1])), len(table.filter(split="test", section="00"))
        (2, 0)
        """
        unknown = set(criteria) - set(CLIP_FIELDS)
        if unknown:
            raise TypeError(
                f"ClipTable.filter got unknown field(s) {sorted(unknown)}; filter on {', '.join(CLIP_FIELDS)}"
            )
        checks = [
            (
                name,
                tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,),
                _same_section if name == "section" else operator.eq,
            )
            for name, value in criteria.items()
        ]
        return ClipTable(
            clip
            for clip in self._clips
            if all(any(same(getattr(clip, name), value) for value in values) for name, values, same in checks)
        )

    @property
    def paths(self) -> list[str]:
        """The audio file paths, in table order."""
        return [clip.path for clip in self._clips]

    @property
    def labels(self) -> np.ndarray:
        """Ground truth as integers, 1 for anomaly and 0 for normal (raises if a clip has no label)."""
        for index, clip in enumerate(self._clips):
            if clip.label is None:
                raise ValueError(
                    f"clip {index} ({clip.path}) has no label (DCASE evaluation test clips have "
                    "none); select labelled clips first, e.g. table.filter(label=['normal', 'anomaly'])"
                )
        return np.array([clip.label == "anomaly" for clip in self._clips], dtype=int)

    @property
    def machines(self) -> list[str]:
        """The machine types present, sorted."""
        return sorted({clip.machine for clip in self._clips})

    @property
    def sections(self) -> list:
        """The sections present, sorted (numerically where they are numbers)."""
        return sorted({clip.section for clip in self._clips}, key=_section_key)

    def to_csv(self, path) -> Path:
        """Write the table as a manifest CSV that :func:`~audioad.datasets.read_dataset` reads back.

        Columns are ``path,machine,section,domain,split,label`` and one per attribute; paths are
        written relative to the CSV's folder, as in a manifest, and unknown values as empty cells.

        Parameters
        ----------
        path : str or Path
            The CSV file to write; its folder is created if missing. It is written through
            :func:`audioad.outputs.atomic_path`: whole or not at all, never through a link.

        Returns
        -------
        Path
            The written file.

        Examples
        --------
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> table = ClipTable([ClipInfo(os.path.join(folder, "a.wav"), "fan", "00", label="normal")])
        >>> print(open(table.to_csv(os.path.join(folder, "clips.csv"))).read().strip())
        path,machine,section,domain,split,label
        a.wav,fan,00,,,normal
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        attribute_names = sorted({name for clip in self._clips for name in clip.attributes})
        folder = path.resolve().parent
        with atomic_path(path) as part, open(part, "w", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(["path", *CLIP_FIELDS, *attribute_names])
            for clip in self._clips:
                row = [os.path.relpath(clip.path, folder)]
                row += ["" if getattr(clip, name) is None else getattr(clip, name) for name in CLIP_FIELDS]
                row += [clip.attributes.get(name, "") for name in attribute_names]
                writer.writerow(row)
        return path
