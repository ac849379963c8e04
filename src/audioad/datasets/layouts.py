"""The folder layouts of machine recordings, read into one :class:`~audioad.datasets.ClipTable`.

:func:`read_dataset` reads any of the layouts the field uses (:data:`LAYOUTS`: DCASE 2020, 2021
and 2022-2025, MIMII, plain ``normal/`` + ``anomaly/`` folders, or a manifest CSV) into one row
(:class:`~audioad.datasets.ClipInfo`) per clip with its machine, section, domain, split, label
and file-name attributes.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import replace
from pathlib import Path

from ..folders import find_audio
from .groups import infer_groups
from .table import CLIP_FIELDS, LABEL_SPELLINGS, ClipInfo, ClipTable

__all__ = ["LAYOUTS", "read_dataset"]

LAYOUTS = ("dcase2020", "dcase2021", "dcase2022", "mimii", "labelled_folders", "manifest")

_LAYOUT_PATTERNS = {
    "dcase2020": "<machine>/{train,test}/{normal,anomaly}_id_00_00000000.wav",
    "dcase2021": "<machine>/{train,source_test,target_test}/section_00_source_train_normal_0000_....wav",
    "dcase2022": "<machine>/{train,test}/section_00_source_train_normal_0000_<attr>_<value>.wav (2022-2025)",
    "mimii": "[<snr>/]<machine>/id_00/{normal,abnormal}/00000000.wav",
    "labelled_folders": "[<machine>/]{normal,anomaly|abnormal}/[...]/<any name>.wav",
    "manifest": "a CSV file (or a folder with manifest.csv) with a 'path' column",
}
# MIMII's label folders, spelled as LABEL_SPELLINGS knows them
_MIMII_LABEL_FOLDERS = ("normal", "abnormal")
# The folder names that say a clip's label in the labelled_folders layout
_LABEL_FOLDERS = tuple(name for name, label in LABEL_SPELLINGS.items() if label and not name.isdigit())


def _file_name_attributes(tokens: list[str]) -> dict:
    """DCASE 2022+ attributes: ``<attr>_<value>`` pairs after the clip index.

    ``noAttribute`` (machines without attributes since 2023) gives no attributes; a lone
    trailing token is kept as an attribute with an empty value rather than dropped.
    """
    if tokens == ["noAttribute"]:
        return {}
    attributes = dict(zip(tokens[0::2], tokens[1::2]))
    if len(tokens) % 2:
        attributes[tokens[-1]] = ""
    return attributes


_DCASE2020_NAME = re.compile(r"^(?:(normal|anomaly)_)?id_(\d+)_\d+$")
_DCASE_LABELLED_NAME = re.compile(r"^section_(\d+)_(source|target)_(train|test)_(normal|anomaly)_\d+(?:_(.*))?$")
_DCASE_UNLABELLED_NAME = re.compile(r"^section_(\d+)_\d+$")
_SNR_FOLDER = re.compile(r"^(-?\d+)_?dB(?:_(.+))?$")


def _parse_dcase2020(path: Path) -> ClipInfo | None:
    split = path.parent.name
    match = _DCASE2020_NAME.match(path.stem)
    if split not in ("train", "test") or not match:
        return None
    label, section = match.groups()
    return ClipInfo(str(path), path.parent.parent.name, section, None, split, label)


def _parse_dcase2021(path: Path) -> ClipInfo | None:
    folder = path.parent.name
    if folder not in ("train", "source_test", "target_test"):
        return None
    split = "train" if folder == "train" else "test"
    folder_domain = None if folder == "train" else folder.split("_")[0]
    machine = path.parent.parent.name
    match = _DCASE_LABELLED_NAME.match(path.stem)
    if match:
        section, domain, name_split, label, _ = match.groups()
        return ClipInfo(str(path), machine, section, domain, name_split, label)
    match = _DCASE_UNLABELLED_NAME.match(path.stem)
    if match:
        return ClipInfo(str(path), machine, match.group(1), folder_domain, split, None)
    return None


def _parse_dcase2022(path: Path) -> ClipInfo | None:
    if path.parent.name not in ("train", "test"):
        return None
    machine = path.parent.parent.name
    match = _DCASE_LABELLED_NAME.match(path.stem)
    if match:
        section, domain, split, label, tail = match.groups()
        attributes = _file_name_attributes(tail.split("_")) if tail else {}
        return ClipInfo(str(path), machine, section, domain, split, label, attributes)
    match = _DCASE_UNLABELLED_NAME.match(path.stem)
    if match:
        return ClipInfo(str(path), machine, match.group(1), None, path.parent.name, None)
    return None


def _parse_mimii(path: Path) -> ClipInfo | None:
    label = LABEL_SPELLINGS[path.parent.name] if path.parent.name in _MIMII_LABEL_FOLDERS else None
    section = re.fullmatch(r"id_(\d+)", path.parent.parent.name)
    if label is None or section is None or not path.stem.isdigit():
        return None
    machine = path.parents[2].name
    attributes = {}
    for folder in path.parents[2:]:
        snr = _SNR_FOLDER.match(folder.name)
        if snr:
            attributes["snr_db"] = snr.group(1)
            if folder == path.parents[2] and snr.group(2):
                # the machine folder may itself be the SNR folder, as in '-6_dB_fan/id_00/...'
                machine = snr.group(2)
            break
    return ClipInfo(str(path), machine, section.group(1), None, None, label, attributes)


def _parse_labelled_folders(path: Path, root: Path) -> ClipInfo | None:
    """``normal/`` and ``anomaly/`` (or ``abnormal/``) folders at the root or in machine folders."""
    parts = path.relative_to(root).parts[:-1]
    for depth in (0, 1):
        if len(parts) > depth and parts[depth].lower() in _LABEL_FOLDERS:
            machine = root.name if depth == 0 else parts[0]
            return ClipInfo(str(path), machine, None, None, None, LABEL_SPELLINGS[parts[depth].lower()])
    return None


# Tried in this order; each takes (path, root).
_FOLDER_PARSERS = {
    "dcase2020": lambda path, root: _parse_dcase2020(path),
    "dcase2022": lambda path, root: _parse_dcase2022(path),
    "dcase2021": lambda path, root: _parse_dcase2021(path),
    "mimii": lambda path, root: _parse_mimii(path),
    "labelled_folders": _parse_labelled_folders,
}


def _with_inferred_groups(clips: list[ClipInfo], root: Path, source: str) -> list[ClipInfo]:
    """The clips with a ``group`` attribute read off their file names, where one can be (warns)."""
    groups = infer_groups([c.path for c in clips], [c.label for c in clips], root, source)
    return [
        clip if group is None else replace(clip, attributes={**clip.attributes, "group": group})
        for clip, group in zip(clips, groups)
    ]


def _supported_layouts() -> str:
    return "; ".join(f"{name}: {pattern}" for name, pattern in _LAYOUT_PATTERNS.items())


class ManifestWarning(UserWarning):
    """A manifest's columns may not say what they should: another column seems to tell machines apart."""


# Columns of the shared recordings' manifests that describe a file, not which machine it is.
_FILE_COLUMNS = ("group", "sample_rate", "channels", "duration_s")


def _machines_in_another_column(csv_path, columns, rows):
    """Warn where a manifest has no machine or section column but another column splits its normal clips."""
    if "machine" in columns or "section" in columns:
        return
    normal = [row for row in rows if (row.get("label") or "").strip().lower() in ("", "normal", "0")]
    for name in columns:
        if name in ("path", *CLIP_FIELDS, *_FILE_COLUMNS):
            continue
        values = sorted({row[name] for row in normal if row.get(name)})
        numeric = all(re.fullmatch(r"[-+0-9.eE]+", v) for v in values)
        if 2 <= len(values) <= max(2, len(normal) // 3) and not numeric:
            shown = ", ".join(values[:5]) + (", ..." if len(values) > 5 else "")
            warnings.warn(
                ManifestWarning(
                    f"manifest {csv_path} has no 'machine' or 'section' column, so all its clips make one model, "
                    f"but its normal clips differ in '{name}' ({shown}); if these are different machines or "
                    f"settings, name them in a 'machine' (or 'section') column"
                ),
                stacklevel=4,
            )
            return


def _read_manifest(csv_path: Path) -> ClipTable:
    """Read a manifest CSV; paths are relative to its folder and extra columns become attributes.

    Without ``split`` and ``group`` columns, groups are read off the file names (:func:`infer_groups`).
    """
    with open(csv_path, newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        if "path" not in columns:
            raise ValueError(
                f"manifest {csv_path} has no 'path' column (it has {columns}); a manifest needs "
                "'path' and may have 'label', 'machine', 'section', 'domain', 'split' and more columns"
            )
        extra = [name for name in columns if name != "path" and name not in CLIP_FIELDS]
        rows = list(reader)
        _machines_in_another_column(csv_path, columns, rows)
        clips = []
        for row_number, row in enumerate(rows, start=2):
            path = (csv_path.parent / row["path"]).resolve()
            if not path.is_file():
                raise FileNotFoundError(
                    f"{csv_path}, line {row_number}: audio file {path} does not exist; "
                    "fix the path (relative to the CSV's folder) or remove the row"
                )
            label_text = (row.get("label") or "").strip().lower()
            if label_text not in LABEL_SPELLINGS:
                raise ValueError(
                    f"{csv_path}, line {row_number}: label {row['label']!r} is neither 'normal' nor "
                    "'anomaly'; use one of these (or leave it empty when unknown)"
                )
            clips.append(
                ClipInfo(
                    str(path),
                    row.get("machine") or csv_path.resolve().parent.name,
                    row.get("section") or None,
                    row.get("domain") or None,
                    row.get("split") or None,
                    LABEL_SPELLINGS[label_text],
                    {name: row[name] for name in extra if row.get(name)},
                )
            )
    if "split" not in columns and "group" not in columns and clips:
        clips = _with_inferred_groups(clips, csv_path.resolve().parent, f"manifest {csv_path}")
    return ClipTable(clips, layout="manifest")


def read_dataset(root, layout: str = "auto") -> ClipTable:
    """Read a folder of machine recordings (or a manifest CSV) into one table of clips.

    Parameters
    ----------
    root : str or Path
        The data set folder (holding the machine folders, or one machine folder), or a manifest
        CSV. A folder with a ``manifest.csv`` is read through it. A manifest has a ``path`` column
        (relative to the CSV's folder) and may have ``label`` (``normal``/``anomaly``, empty when
        unknown), ``machine`` (by default the CSV's folder name), ``section``, ``domain`` and
        ``split``; any other column (``group``, ``condition``, ...) goes into the attributes.
    layout : 'auto' or one of :data:`LAYOUTS`, default 'auto'
        ``'auto'`` picks the layout whose naming every audio file follows. ``'dcase2022'`` covers
        DCASE 2022 to 2025 and ``'mimii'`` any SNR folder (``-6_dB_fan``, ``0_dB``) or none.
        ``'labelled_folders'`` is a folder holding ``normal/`` and ``anomaly/`` (or ``abnormal/``)
        folders, or machine folders that hold them; its clips have no split or section.

    Files are found by :func:`audioad.folders.find_audio`: every format libsndfile reads, hidden
    files, ``._*`` sidecars and version-control folders skipped. Where nothing says which clips
    come from one recording (a manifest without ``group`` and ``split`` columns, labelled
    folders), the ``group`` attribute is read off the file names where it can be, with a
    :class:`~audioad.datasets.groups.GroupWarning`.

    Returns
    -------
    ClipTable
        One row per audio file, sorted by path (manifests keep their row order); its ``layout``
        names the layout it was read as.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist or holds no audio files.
    ValueError
        If the files follow none of the supported layouts (the message lists them).

    Examples
    --------
    >>> import tempfile
    >>> from audioad.datasets import make_machine_sounds
    >>> root = tempfile.mkdtemp()
    >>> table = make_machine_sounds(root, machines=("fan",), n_sections=1, n_train=4,
    ...                             n_test_normal=2, n_test_anomaly=2, duration=0.1)
    >>> clips = read_dataset(root)
    >>> clips == table, len(clips), clips.machines
    (True, 8, ['fan'])
    >>> first = clips.filter(split="test", label="anomaly")[0]
    >>> first.section, first.domain, sorted(first.attributes)
    ('00', 'source', ['fault', 'speed'])
    """
    given = root
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(
            f"dataset root {given} does not exist; pass the folder that holds the machine folders (or a manifest CSV)"
        )
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"layout {layout!r} is not one of 'auto', {', '.join(map(repr, LAYOUTS))}")
    root = root.resolve()
    if root.is_file() or layout == "manifest":
        csv_path = root if root.is_file() else root / "manifest.csv"
        if csv_path.suffix.lower() != ".csv" or not csv_path.is_file():
            raise ValueError(f"{csv_path} is not a manifest CSV; supported layouts: {_supported_layouts()}")
        return _read_manifest(csv_path)
    if layout == "auto" and (root / "manifest.csv").is_file():
        return _read_manifest(root / "manifest.csv")

    files = [Path(path) for path in find_audio(root)]
    if not files:
        raise FileNotFoundError(
            f"no audio files (none that libsndfile reads) found under {root}; check the path, "
            "or unpack the data set there first"
        )

    candidates = _FOLDER_PARSERS if layout == "auto" else {layout: _FOLDER_PARSERS[layout]}
    best_unmatched = None
    for name, parse in candidates.items():
        clips = []
        for path in files:
            clip = parse(path, root)
            if clip is None:
                if best_unmatched is None or len(clips) > best_unmatched[0]:
                    best_unmatched = (len(clips), path)
                break
            clips.append(clip)
        else:
            if name == "labelled_folders":
                clips = _with_inferred_groups(clips, root, f"the folders under {root}")
            return ClipTable(clips, layout=name)
    wanted = f"the {layout} layout" if layout != "auto" else "any supported layout"
    raise ValueError(
        f"the files under {root} do not follow {wanted} (e.g. {best_unmatched[1]}); "
        f"supported layouts: {_supported_layouts()}"
    )
