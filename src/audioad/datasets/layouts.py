"""The folder layouts of machine recordings, read into one :class:`~audioad.datasets.ClipTable`.

:func:`read_dataset` reads any of the layouts the field uses (:data:`LAYOUTS`: DCASE 2020, 2021
and 2022-2025, MIMII, or a manifest CSV) into one row (:class:`~audioad.datasets.ClipInfo`) per
clip with its machine, section, domain, split, label and file-name attributes.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ..audio import AUDIO_SUFFIXES
from .table import CLIP_FIELDS, LABEL_SPELLINGS, ClipInfo, ClipTable

__all__ = ["LAYOUTS", "read_dataset"]

LAYOUTS = ("dcase2020", "dcase2021", "dcase2022", "mimii", "manifest")

_LAYOUT_PATTERNS = {
    "dcase2020": "<machine>/{train,test}/{normal,anomaly}_id_00_00000000.wav",
    "dcase2021": "<machine>/{train,source_test,target_test}/section_00_source_train_normal_0000_....wav",
    "dcase2022": "<machine>/{train,test}/section_00_source_train_normal_0000_<attr>_<value>.wav (2022-2025)",
    "mimii": "[<snr>/]<machine>/id_00/{normal,abnormal}/00000000.wav",
    "manifest": "a CSV file (or a folder with manifest.csv) with a 'path' column",
}
# MIMII's label folders, spelled as LABEL_SPELLINGS knows them
_MIMII_LABEL_FOLDERS = ("normal", "abnormal")


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


_FOLDER_PARSERS = {
    "dcase2020": _parse_dcase2020,
    "dcase2022": _parse_dcase2022,
    "dcase2021": _parse_dcase2021,
    "mimii": _parse_mimii,
}


def _supported_layouts() -> str:
    return "; ".join(f"{name}: {pattern}" for name, pattern in _LAYOUT_PATTERNS.items())


def _read_manifest(csv_path: Path) -> ClipTable:
    """Read a manifest CSV; paths are relative to its folder and extra columns become attributes."""
    with open(csv_path, newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        if "path" not in columns:
            raise ValueError(
                f"manifest {csv_path} has no 'path' column (it has {columns}); a manifest needs "
                "'path' and may have 'label', 'machine', 'section', 'domain', 'split' and more columns"
            )
        extra = [name for name in columns if name != "path" and name not in CLIP_FIELDS]
        clips = []
        for row_number, row in enumerate(reader, start=2):
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
    return ClipTable(clips)


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
    layout : {'auto', 'dcase2020', 'dcase2021', 'dcase2022', 'mimii', 'manifest'}, default 'auto'
        ``'auto'`` picks the layout whose naming every audio file follows. ``'dcase2022'`` covers
        DCASE 2022 to 2025 and ``'mimii'`` any SNR folder (``-6_dB_fan``, ``0_dB``) or none.

    Returns
    -------
    ClipTable
        One row per audio file, sorted by path (manifests keep their row order).

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist or holds no audio files (:data:`audioad.audio.AUDIO_SUFFIXES`).
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

    files = sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )
    if not files:
        raise FileNotFoundError(
            f"no audio files ({', '.join(AUDIO_SUFFIXES)}) found under {root}; check the path, "
            "or unpack the data set there first"
        )

    candidates = _FOLDER_PARSERS if layout == "auto" else {layout: _FOLDER_PARSERS[layout]}
    best_unmatched = None
    for parse in candidates.values():
        clips = []
        for path in files:
            clip = parse(path)
            if clip is None:
                if best_unmatched is None or len(clips) > best_unmatched[0]:
                    best_unmatched = (len(clips), path)
                break
            clips.append(clip)
        else:
            return ClipTable(clips)
    wanted = f"the {layout} layout" if layout != "auto" else "any supported layout"
    raise ValueError(
        f"the files under {root} do not follow {wanted} (e.g. {best_unmatched[1]}); "
        f"supported layouts: {_supported_layouts()}"
    )
