"""The development sets every accuracy choice is judged on, and the benchmark protocol's split.

Each set is decoded once into a cache of arrays (one ``.npy`` of samples and one of offsets) and
given a plan: for every seed, its sections, each with the indices of its training clips, its test
clips and their labels. ``run.py`` (audioad against PyOD) and ``choices.py`` (the default
detector's design, leave-one-set-out) read the same plans, so both judge on the same clips.

- The shared recordings (``../shared/data``): ``bldc_motor``, ``fan``, ``paper_machine``.
- ``synthetic``: :func:`audioad.datasets.make_machine_sounds` with its defaults (every kind of
  fault, machines fan and pump), 2 s clips at 16 kHz.
- Variants that reproduce the two ways a fixed combination of views fails on real machines:
  ``stationary-*`` (every clip runs at its own speed, up to 12 % off, and the faults, a tone or a
  new resonance, change only the stationary spectrum: the view of the average spectrum carries
  the signal, the views of fluctuation and of short windows mostly the speed) and
  ``fluctuation-*`` (the same spread of speeds, and faults that change only how the sound
  fluctuates or add short events: clicks, amplitude modulation, bursts of rattle). The suffix
  names the clip length and the input rate; clips go to the detectors at that rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The real recordings are decoded to this rate, mono, before any detector sees them.
SR = 16000
BLDC_CLIP_SECONDS = 2.0


@dataclass(frozen=True)
class DevSet:
    """One development set: real recordings (``folder``) or a synthetic generator's arguments."""

    name: str
    note: str
    folder: str | None = None
    generator: dict = field(default_factory=dict)

    @property
    def real(self) -> bool:
        return self.folder is not None

    @property
    def sr(self) -> int:
        return self.generator.get("sr", SR)


SPREAD = 0.12
STATIONARY = ("tone", "resonance")
FLUCTUATION = ("clicks", "modulation", "rattle")


def _synthetic(name, duration, sr, kinds=None, spread=0.0, n_train=30):
    generator = dict(
        machines=("fan", "pump"),
        n_sections=1,
        n_train=n_train,
        n_test_normal=10,
        n_test_anomaly=10,
        duration=duration,
        sr=sr,
        speed_spread=spread,
    )
    if kinds:
        generator["anomaly_kinds"] = kinds
    faults = ", ".join(kinds) if kinds else "every kind of fault"
    spread_note = f", each clip at its own speed (up to {spread:.0%} off)" if spread else ""
    note = (
        f"`make_machine_sounds` (machines fan and pump, one section each, {n_train} train / 10 normal / "
        f"10 anomalous test clips of {duration:g} s at {sr // 1000} kHz{spread_note}; faults: {faults}); "
        "each section fitted and scored on its own split and the metrics averaged over the sections; "
        "the seed is the generator's `random_state`"
    )
    return DevSet(name, note, generator=generator)


DEV_SETS = {
    s.name: s
    for s in (
        DevSet(
            "bldc_motor",
            "recordings cut into non-overlapping 2 s clips (mono, 16 kHz) before the split by group",
            folder="bldc_motor",
        ),
        DevSet("fan", "5 s segments as they are", folder="fan"),
        DevSet(
            "paper_machine",
            "21-42 ms snippets (96 kHz, decoded at 16 kHz): a robustness case for very short clips. "
            "Loudness alone separates the classes, inverted, so an AUC below 0.5 means the detector "
            "measures level",
            folder="paper_machine",
        ),
        _synthetic("synthetic", 2.0, 16000),
        _synthetic("stationary-1s-48k", 1.0, 48000, STATIONARY, SPREAD, n_train=60),
        _synthetic("stationary-10s-16k", 10.0, 16000, STATIONARY, SPREAD),
        _synthetic("fluctuation-2s-16k", 2.0, 16000, FLUCTUATION, SPREAD),
        _synthetic("fluctuation-10s-48k", 10.0, 48000, FLUCTUATION, SPREAD),
    )
}
REAL_DATASETS = tuple(name for name, s in DEV_SETS.items() if s.real)
DATASETS = tuple(DEV_SETS)


def group_split(labels, groups, seed):
    """Train on the normal clips of a random half of the normal groups; test on the rest.

    The normal groups, sorted, are permuted by ``numpy.random.default_rng(seed)``; the first
    half (rounded down) is the training half.
    """
    normal_groups = sorted({g for g, label in zip(groups, labels) if label == 0})
    order = np.random.default_rng(seed).permutation(len(normal_groups))
    train_groups = {normal_groups[i] for i in order[: len(normal_groups) // 2]}
    in_train = [label == 0 and g in train_groups for g, label in zip(groups, labels)]
    train = [i for i, t in enumerate(in_train) if t]
    test = [i for i, t in enumerate(in_train) if not t]
    return train, test


def load_real(folder: Path, name: str):
    """Decode a manifest folder: (waves, labels, groups), bldc_motor cut into 2 s clips."""
    from audioad.audio import load_audio
    from audioad.datasets import read_dataset

    waves, labels, groups = [], [], []
    for clip in read_dataset(folder):
        wave, _ = load_audio(clip.path, sr=SR)
        pieces = [wave]
        if name == "bldc_motor":
            length = int(BLDC_CLIP_SECONDS * SR)
            pieces = [wave[start : start + length] for start in range(0, len(wave) - length + 1, length)]
        for piece in pieces:
            waves.append(np.ascontiguousarray(piece, dtype=np.float32))
            labels.append(int(clip.label == "anomaly"))
            groups.append(clip.attributes["group"])
    return waves, labels, groups


def save_clips(waves, path: Path) -> str:
    offsets = np.cumsum([0] + [len(w) for w in waves])
    np.save(path.with_suffix(".offsets.npy"), offsets)
    np.save(path.with_suffix(".npy"), np.concatenate(waves) if waves else np.zeros(0, np.float32))
    return path.name


def load_clips(cache: Path, key: str, sr: int) -> list:
    """The ``(waveform, sr)`` tuples saved by :func:`save_clips` under ``key``."""
    base = Path(cache) / key
    data = np.load(base.with_suffix(".npy"))
    offsets = np.load(base.with_suffix(".offsets.npy"))
    return [(data[a:b], sr) for a, b in zip(offsets[:-1], offsets[1:])]


def prepare(name: str, seeds, cache: Path, data: Path):
    """Decode set ``name`` into ``cache`` and plan its splits: ``(plan, description)``.

    ``plan[str(seed)]`` holds ``clips`` (the cache key), ``sr`` and ``sections``, each a dict of
    ``name``, ``train`` and ``test`` (clip indices) and ``y`` (the test labels, 1 anomalous);
    synthetic sections also carry ``test_domains`` (``source``/``target`` per test clip).
    """
    spec = DEV_SETS[name]
    if spec.real:
        return _prepare_real(Path(data) / spec.folder, name, seeds, cache)
    return _prepare_synthetic(spec, seeds, cache)


def _prepare_real(folder: Path, name: str, seeds, cache: Path):
    waves, labels, groups = load_real(folder, name)
    key = save_clips(waves, cache / name)
    plan = {}
    for seed in seeds:
        train, test = group_split(labels, groups, seed)
        section = {"name": name, "train": train, "test": test, "y": [labels[i] for i in test]}
        plan[str(seed)] = {"clips": key, "sr": SR, "sections": [section]}
    counts = summary_counts(plan)
    return plan, f"{len(waves)} clips from {len(set(groups))} recordings; per seed {counts}"


def _prepare_synthetic(spec: DevSet, seeds, cache: Path):
    from audioad.audio import load_audio
    from audioad.datasets import make_machine_sounds

    plan = {}
    for seed in seeds:
        folder = cache / f"{spec.name}_{seed}"
        table = make_machine_sounds(folder, random_state=seed, **spec.generator)
        waves = [load_audio(clip.path, sr=spec.sr)[0].astype(np.float32) for clip in table]
        sections = []
        for machine_type in table.machines:
            for section in table.filter(machine=machine_type).sections:
                index = [i for i, c in enumerate(table) if c.machine == machine_type and c.section == section]
                train = [i for i in index if table[i].split == "train"]
                test = [i for i in index if table[i].split == "test"]
                sections.append(
                    {
                        "name": f"{machine_type}/{section}",
                        "train": train,
                        "test": test,
                        "y": [int(table[i].label == "anomaly") for i in test],
                        "test_domains": [table[i].domain for i in test],
                    }
                )
        plan[str(seed)] = {"clips": save_clips(waves, folder), "sr": spec.sr, "sections": sections}
    n_sections = len(next(iter(plan.values()))["sections"])
    return plan, f"{n_sections} sections; per section and seed {summary_counts(plan, per_section=True)}"


def summary_counts(plan, per_section=False) -> str:
    """Train / test normal / test anomalous clip counts, averaged over seeds (and sections)."""
    rows = [
        (len(s["train"]), len(s["y"]) - sum(s["y"]), sum(s["y"]))
        for entry in plan.values()
        for s in (entry["sections"] if per_section else entry["sections"][:1])
    ]
    train, normal, anomaly = np.mean(rows, axis=0)
    return f"{train:.0f} train, {normal:.0f} normal + {anomaly:.0f} anomalous test clips"
