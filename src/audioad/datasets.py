"""Folders of machine recordings as one table of clips, DCASE result files, and synthetic machine sounds.

:func:`read_dataset` reads any of the folder layouts the field uses (DCASE 2020, 2021 and
2022-2025, MIMII, or a manifest CSV) into a :class:`ClipTable`: one row (:class:`ClipInfo`) per clip
with its machine, section, domain, split, label and file-name attributes.
:func:`write_dcase_results` writes scores in the DCASE submission format, and
:func:`make_machine_sounds` writes a synthetic data set in the DCASE 2022+ layout for tests,
examples and benchmarks that must run without downloads.
"""

from __future__ import annotations

import csv
import operator
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

__all__ = [
    "ANOMALY_KINDS",
    "LAYOUTS",
    "ClipInfo",
    "ClipTable",
    "make_machine_sounds",
    "read_dataset",
    "write_dcase_results",
]

LAYOUTS = ("dcase2020", "dcase2021", "dcase2022", "mimii", "manifest")
ANOMALY_KINDS = ("clicks", "tone", "modulation", "shift", "rattle")

_AUDIO_SUFFIXES = (".wav", ".flac")
_LAYOUT_PATTERNS = {
    "dcase2020": "<machine>/{train,test}/{normal,anomaly}_id_00_00000000.wav",
    "dcase2021": "<machine>/{train,source_test,target_test}/section_00_source_train_normal_0000_....wav",
    "dcase2022": "<machine>/{train,test}/section_00_source_train_normal_0000_<attr>_<value>.wav (2022-2025)",
    "mimii": "[<snr>/]<machine>/id_00/{normal,abnormal}/00000000.wav",
    "manifest": "a CSV file (or a folder with manifest.csv) with a 'path' column",
}
_LABELS = {
    "normal": "normal",
    "0": "normal",
    "anomaly": "anomaly",
    "abnormal": "anomaly",
    "anomalous": "anomaly",
    "1": "anomaly",
    "": None,
}
_TABLE_FIELDS = ("machine", "section", "domain", "split", "label")


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


def _same_section(a, b) -> bool:
    """Sections compare as numbers when both are numbers, so ``0`` selects ``'00'``."""
    if a == b:
        return True
    try:
        return int(a) == int(b)
    except (TypeError, ValueError):
        return False


def _section_key(section):
    """Sort numeric sections numerically and put the others after them."""
    try:
        return (0, int(section), "")
    except (TypeError, ValueError):
        return (1, 0, str(section))


class ClipTable(Sequence):
    """A table of clips: a read-only list of :class:`ClipInfo` with selection helpers.

    Parameters
    ----------
    clips : iterable of ClipInfo
        The rows, kept in the given order.

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

    def __init__(self, clips: Iterable[ClipInfo] = ()):
        self._clips = tuple(clips)

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
        unknown = set(criteria) - set(_TABLE_FIELDS)
        if unknown:
            raise TypeError(
                f"ClipTable.filter got unknown field(s) {sorted(unknown)}; filter on {', '.join(_TABLE_FIELDS)}"
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
        """Write the table as a manifest CSV that :func:`read_dataset` reads back.

        Columns are ``path,machine,section,domain,split,label`` and one per attribute; paths are
        written relative to the CSV's folder, as in a manifest, and unknown values as empty cells.

        Parameters
        ----------
        path : str or Path
            The CSV file to write; its folder is created if missing.

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
        with open(path, "w", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(["path", *_TABLE_FIELDS, *attribute_names])
            for clip in self._clips:
                row = [os.path.relpath(clip.path, folder)]
                row += ["" if getattr(clip, name) is None else getattr(clip, name) for name in _TABLE_FIELDS]
                row += [clip.attributes.get(name, "") for name in attribute_names]
                writer.writerow(row)
        return path


# ---------------------------------------------------------------- reading folders


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
    label = {"normal": "normal", "abnormal": "anomaly"}.get(path.parent.name)
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
        extra = [name for name in columns if name != "path" and name not in _TABLE_FIELDS]
        clips = []
        for row_number, row in enumerate(reader, start=2):
            path = (csv_path.parent / row["path"]).resolve()
            if not path.is_file():
                raise FileNotFoundError(
                    f"{csv_path}, line {row_number}: audio file {path} does not exist; "
                    "fix the path (relative to the CSV's folder) or remove the row"
                )
            label_text = (row.get("label") or "").strip().lower()
            if label_text not in _LABELS:
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
                    _LABELS[label_text],
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
        If ``root`` does not exist or holds no audio files (.wav, .flac).
    ValueError
        If the files follow none of the supported layouts (the message lists them).

    Examples
    --------
    >>> import tempfile
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
        if path.suffix.lower() in _AUDIO_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )
    if not files:
        raise FileNotFoundError(
            f"no audio files ({', '.join(_AUDIO_SUFFIXES)}) found under {root}; check the path, "
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


# ---------------------------------------------------------------- DCASE result files


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


# ---------------------------------------------------------------- synthetic machine sounds

# Output level: leaves headroom for clicks before 16-bit clipping.
_LEVEL = 0.08


@dataclass(frozen=True)
class _Voice:
    """What makes one machine section sound like itself."""

    f0: float
    target_speed: float
    harmonic_amplitudes: np.ndarray
    harmonic_phases: np.ndarray
    noise_sos: np.ndarray
    noise_level: float
    resonance: float


def _section_rng(random_state, machine: str, section: int) -> np.random.Generator:
    """One generator per machine section, so a section sounds the same whatever else is generated."""
    if random_state is None:
        random_state = np.random.SeedSequence().entropy
    return np.random.default_rng([int(random_state), zlib.crc32(machine.encode()), section])


def _make_voice(rng: np.random.Generator, sr: int) -> _Voice:
    f0 = rng.uniform(60.0, 250.0)
    target_speed = rng.choice([-1.0, 1.0]) * rng.uniform(0.08, 0.15) + 1.0
    # harmonics stay below Nyquist at the fastest speed a clip can reach (target domain, shift, drift)
    n_harmonics = int(min(30, 0.45 * sr / (f0 * 1.3)))
    k = np.arange(1, n_harmonics + 1)
    amplitudes = k ** -rng.uniform(0.5, 1.0) * 10 ** (rng.normal(0.0, 4.0, n_harmonics) / 20)
    amplitudes /= np.sqrt(np.sum(amplitudes**2) / 2)
    low = rng.uniform(100.0, 400.0)
    high = min(rng.uniform(3000.0, 7000.0), 0.45 * sr)
    return _Voice(
        f0=f0,
        target_speed=target_speed,
        harmonic_amplitudes=amplitudes,
        harmonic_phases=rng.uniform(0, 2 * np.pi, n_harmonics),
        noise_sos=signal.butter(2, [low, high], btype="bandpass", fs=sr, output="sos"),
        noise_level=10 ** (-rng.uniform(6.0, 14.0) / 20),
        resonance=min(rng.uniform(2000.0, 5000.0), 0.4 * sr),
    )


def _machine_clips(rng, voice: _Voice, speeds, n_samples: int, sr: int):
    """Normal sound of a section at the given speeds: harmonics with speed drift plus coloured noise.

    Returns the clips (n_clips, n_samples) and their mean fundamental frequency.
    """
    n_clips = len(speeds)
    t = np.arange(n_samples) / sr
    speeds = np.asarray(speeds) * (1 + rng.normal(0.0, 0.004, n_clips))
    drift_depth = rng.uniform(0.005, 0.02, (n_clips, 1))
    drift_rate = rng.uniform(0.1, 0.5, (n_clips, 1))
    drift_phase = rng.uniform(0, 2 * np.pi, (n_clips, 1))
    f0 = voice.f0 * speeds[:, None] * (1 + drift_depth * np.sin(2 * np.pi * drift_rate * t + drift_phase))
    # the phase accumulates in double precision; once wrapped, single precision is plenty for
    # audio and several times faster (a complex exp costs far more than a sine and a cosine)
    phase = np.mod(2 * np.pi / sr * np.cumsum(f0, axis=1), 2 * np.pi).astype(np.float32)
    rotation = np.empty(phase.shape, np.complex64)
    rotation.real, rotation.imag = np.cos(phase), np.sin(phase)
    jitter = 10 ** (rng.normal(0.0, 1.0, (n_clips, len(voice.harmonic_amplitudes))) / 20)
    coefficients = voice.harmonic_amplitudes * jitter * np.exp(1j * voice.harmonic_phases)
    coefficients = coefficients.astype(np.complex64)
    # Horner's rule in exp(i*phase): one complex product per harmonic instead of a sine each
    harmonics = np.repeat(coefficients[:, -1:], n_samples, axis=1)
    for k in range(coefficients.shape[1] - 2, -1, -1):
        harmonics *= rotation
        harmonics += coefficients[:, k : k + 1]
    harmonics = (harmonics * rotation).imag.astype(float)

    noise = signal.sosfilt(voice.noise_sos, rng.standard_normal((n_clips, n_samples)), axis=1)
    noise *= voice.noise_level * 10 ** (rng.normal(0.0, 1.0, (n_clips, 1)) / 20) / noise.std()
    return harmonics + noise, voice.f0 * speeds


def _clicks(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Bearing clicks: jittered periodic impulses, each ringing the section's resonance."""
    n_samples = clip.shape[-1]
    period = sr / rng.uniform(6.0, 15.0)
    onsets = np.cumsum(period * (1 + rng.uniform(-0.15, 0.15, int(n_samples / period) + 2)))
    onsets = onsets[onsets < n_samples].astype(int)
    impulses = np.zeros(n_samples)
    impulses[onsets] = rng.uniform(0.6, 1.0, len(onsets))
    b, a = signal.iirpeak(voice.resonance, Q=20, fs=sr)
    ringing = signal.lfilter(b, a, impulses)
    peak = np.max(np.abs(ringing))
    return clip + strength * 5.0 * _rms(clip) * ringing / (peak if peak > 0 else 1.0)


def _tone(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """A pure tone between two harmonics of the clip's fundamental."""
    t = np.arange(clip.shape[-1]) / sr
    frequency = min(f0 * (rng.integers(3, 20) + rng.uniform(0.3, 0.7)), 0.4 * sr)
    return clip + strength * 0.3 * _rms(clip) * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))


def _modulation(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Amplitude modulation at 4-12 Hz, as from an unbalanced or loose part."""
    t = np.arange(clip.shape[-1]) / sr
    depth = min(0.5 * strength, 0.95)
    return clip * (1 + depth * np.sin(2 * np.pi * rng.uniform(4.0, 12.0) * t + rng.uniform(0, 2 * np.pi)))


def _rattle(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Short bursts of band-limited noise at random moments."""
    n_samples = clip.shape[-1]
    centre = rng.uniform(800.0, min(4000.0, 0.3 * sr))
    sos = signal.butter(2, [centre / 1.3, centre * 1.3], btype="bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(n_samples))
    n_bursts = max(1, int(rng.uniform(1.5, 4.0) * n_samples / sr))
    envelope = np.zeros(n_samples)
    lengths = np.maximum(1, (rng.uniform(0.02, 0.06, n_bursts) * sr).astype(int))
    for onset, length in zip(rng.integers(0, n_samples, n_bursts), lengths):
        window = np.hanning(length)[: n_samples - onset]
        envelope[onset : onset + len(window)] = np.maximum(envelope[onset : onset + len(window)], window)
    return clip + strength * 1.5 * _rms(clip) * envelope * noise / noise.std()


def _rms(clip) -> float:
    return float(np.sqrt(np.mean(clip**2)))


# 'shift' is not added to a clip: it changes the speed a clip is synthesised at
_ADDED_ANOMALIES = {"clicks": _clicks, "tone": _tone, "modulation": _modulation, "rattle": _rattle}


def make_machine_sounds(
    root,
    machines: Sequence[str] = ("fan", "pump"),
    n_sections: int = 2,
    n_train: int = 30,
    n_test_normal: int = 10,
    n_test_anomaly: int = 10,
    duration: float = 2.0,
    sr: int = 16000,
    anomaly_strength: float = 1.0,
    anomaly_kinds: Sequence[str] = ANOMALY_KINDS,
    target_fraction: float = 0.1,
    random_state: int | None = 0,
) -> ClipTable:
    """Write synthetic machine sounds in the DCASE 2022+ layout and return their table.

    Each machine section has its own rotation frequency (60-250 Hz) with a harmonic series of
    decaying amplitudes and band-limited coloured noise. Normal clips vary: the speed drifts by
    0.5-2 % within a clip, and harmonic levels, noise level and gain differ a little between clips.
    A fraction of the clips runs in the target domain, 8-15 % faster or slower (the ``speed``
    attribute). Anomalous clips carry one anomaly each, the kinds taken in turn:

    - ``'clicks'``: bearing clicks, jittered periodic impulses ringing a resonance (2-5 kHz);
    - ``'tone'``: a pure tone between two harmonics;
    - ``'modulation'``: amplitude modulation at 4-12 Hz;
    - ``'shift'``: the fundamental moved by about 3 % (scaled by the strength);
    - ``'rattle'``: bursts of band-limited noise.

    At the default strength the anomalies are subtle on purpose, so that detectors differ: a
    k-NN on time-averaged log-mel spectra does not separate them perfectly (tests/test_datasets.py
    checks that its AUC stays well below 1).

    Parameters
    ----------
    root : str or Path
        Folder to write into (created if missing); files are ``<root>/<machine>/{train,test}/
        section_<NN>_<domain>_<split>_<label>_<NNNN>_speed_<rpm>[_fault_<kind>].wav``.
    machines : str or sequence of str, default ('fan', 'pump')
        Machine types; the name seeds the machine's sound.
    n_sections : int, default 2
        Sections per machine, each its own machine sound.
    n_train, n_test_normal, n_test_anomaly : int, default 30, 10, 10
        Clips per section: normal training clips, normal and anomalous test clips.
    duration : float, default 2.0
        Clip length in seconds.
    sr : int, default 16000
        Sample rate in Hz; files are 16-bit PCM WAV.
    anomaly_strength : float, default 1.0
        Scales how audible anomalies are; 0 makes anomalous clips sound like normal ones.
    anomaly_kinds : sequence of str, default all of ``ANOMALY_KINDS``
        Anomaly kinds to use, in turn.
    target_fraction : float, default 0.1
        Fraction of each group of clips (train, test normal, test anomalous) in the target domain.
    random_state : int or None, default 0
        Seed; the same seed gives the same files. A section's sound does not depend on the other
        machines and sections asked for, and its normal clips not on ``anomaly_strength``.

    Returns
    -------
    ClipTable
        The written clips, sorted by path, equal to ``read_dataset(root)`` on a fresh folder.

    Examples
    --------
    >>> import tempfile
    >>> table = make_machine_sounds(tempfile.mkdtemp(), machines=("pump",), n_train=3,
    ...                             n_test_normal=2, n_test_anomaly=2, duration=0.2)
    >>> len(table), table.sections, int(table.filter(split="test").labels.sum())
    (14, ['00', '01'], 4)
    >>> sorted({clip.attributes.get("fault") for clip in table.filter(label="anomaly")})
    ['clicks', 'tone']
    """
    machines = (machines,) if isinstance(machines, str) else tuple(machines)
    anomaly_kinds = tuple(anomaly_kinds)
    unknown = [kind for kind in anomaly_kinds if kind not in ANOMALY_KINDS]
    if unknown or not anomaly_kinds:
        raise ValueError(f"unknown anomaly kinds {unknown}; anomaly_kinds must be some of {ANOMALY_KINDS}")
    if anomaly_strength < 0:
        raise ValueError(f"anomaly_strength must be >= 0, got {anomaly_strength}")
    if not 0 <= target_fraction <= 1:
        raise ValueError(f"target_fraction must be between 0 and 1, got {target_fraction}")
    n_samples = int(round(duration * sr))
    if n_samples < 1:
        raise ValueError(f"duration {duration} s at sr={sr} gives no samples; ask for a longer clip")
    root = Path(root).expanduser().resolve()

    groups = [
        ("train", "normal", n_train),
        ("test", "normal", n_test_normal),
        ("test", "anomaly", n_test_anomaly),
    ]
    clips = []
    for machine in machines:
        for folder in ("train", "test"):
            (root / machine / folder).mkdir(parents=True, exist_ok=True)
        for section in range(n_sections):
            rng = _section_rng(random_state, machine, section)
            voice = _make_voice(rng, sr)
            rpm = {"source": round(voice.f0 * 60), "target": round(voice.f0 * voice.target_speed * 60)}
            rows = []
            for split, label, count in groups:
                n_target = int(round(target_fraction * count))
                for domain, n_domain in (("source", count - n_target), ("target", n_target)):
                    rows += [(split, label, domain, index) for index in range(n_domain)]
            kind_of_row = [None] * len(rows)
            anomalous = [i for i, row in enumerate(rows) if row[1] == "anomaly"]
            for j, i in enumerate(anomalous):
                kind_of_row[i] = anomaly_kinds[j % len(anomaly_kinds)]
            speeds = np.array([voice.target_speed if row[2] == "target" else 1.0 for row in rows])
            # shifted clips get their speed changed before synthesis; every clip draws the same
            # random numbers whatever the strength, so strength 0 reproduces normal sound exactly
            shift = rng.choice([-1.0, 1.0], len(rows)) * rng.uniform(0.025, 0.035, len(rows))
            speeds = speeds * np.where(np.array(kind_of_row) == "shift", 1 + anomaly_strength * shift, 1.0)
            audio, f0 = _machine_clips(rng, voice, speeds, n_samples, sr)
            gain = _LEVEL * 10 ** (rng.normal(0.0, 1.0, len(rows)) / 20)
            for i, ((split, label, domain, index), kind) in enumerate(zip(rows, kind_of_row)):
                if kind in _ADDED_ANOMALIES:
                    audio[i] = _ADDED_ANOMALIES[kind](rng, audio[i], voice, f0[i], anomaly_strength, sr)
                attributes = {"speed": str(rpm[domain])}
                name = f"section_{section:02d}_{domain}_{split}_{label}_{index:04d}_speed_{rpm[domain]}"
                if kind is not None:
                    attributes["fault"] = kind
                    name += f"_fault_{kind}"
                path = root / machine / split / f"{name}.wav"
                sf.write(path, np.clip(gain[i] * audio[i], -1.0, 1.0), sr, subtype="PCM_16")
                clips.append(ClipInfo(str(path), machine, f"{section:02d}", domain, split, label, attributes))
    return ClipTable(sorted(clips, key=lambda clip: clip.path))
