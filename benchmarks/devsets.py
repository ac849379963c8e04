"""The development sets every accuracy choice is judged on, and the benchmark protocol's split.

Each set is decoded once into a cache of arrays (one ``.npy`` of samples and one of offsets) and
given a plan: for every split, its sections, each with the indices of its training clips, its test
clips and their labels. ``run.py`` (audioad against PyOD) and ``choices.py`` (the default
detector's design, leave-one-set-out) read the same plans, so both judge on the same clips.

**The protocol** (issue 22): accuracy as a user meets it, trained on some recordings and tested on
others made later. Every split is by recording and by time, never by random short clips of one
recording, and it is made in both directions (the earlier block trains and the later tests, then
the reverse), whose mean the tables report. Test clips whose decoded samples equal a training
clip's are dropped, and counted.

- ``bldc_motor``: the recordings carry no time, but each motor was recorded speed after speed. Per
  motor (M1-M3 have healthy recordings), its normal recordings in order of speed (1400 → 2000 rpm)
  are cut in two contiguous blocks: train on a motor at some speeds, test on it at the others.
- ``fan``: per recording session (2020-03-18 and 2021-02-10, the date in the group), its normal
  recordings in time order cut in two contiguous blocks (7 → 3 + 4, 5 → 2 + 3 recordings).
- ``fan-drift``: trained on every normal recording of 2020-03-18, tested on those of 2021-02-10,
  eleven months later, with every anomalous clip; one direction (time runs one way).
- ``paper_machine``: its snippets, numbered, in file order, cut in two contiguous blocks.
- ``synthetic``: :func:`audioad.datasets.make_machine_sounds` with its defaults (every kind of
  fault, machines fan and pump) and ``sessions=2``: each section recorded in two sessions, the
  second drifted (gain, microphone tilt, speed range, wear, background). Trained on one session's
  training clips, tested on the other session's test clips, normal and anomalous.
- Variants that reproduce the two ways a fixed combination of views fails on real machines, in
  two sessions too: ``stationary-*`` (every clip runs at its own speed, up to 12 % off, and the
  faults, a tone or a new resonance, change only the stationary spectrum: the view of the average
  spectrum carries the signal, the views of fluctuation and of short windows mostly the speed) and
  ``fluctuation-*`` (the same spread of speeds, and faults that change only how the sound
  fluctuates or add short events: clicks, amplitude modulation, bursts of rattle). The suffix
  names the clip length and the input rate; clips go to the detectors at that rate.
"""

from __future__ import annotations

import re
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
        sessions=2,
    )
    if kinds:
        generator["anomaly_kinds"] = kinds
    faults = ", ".join(kinds) if kinds else "every kind of fault"
    spread_note = f", each clip at its own speed (up to {spread:.0%} off)" if spread else ""
    note = (
        f"`make_machine_sounds` (machines fan and pump, one section each, two recording sessions, "
        f"{n_train} train / 10 normal / 10 anomalous test clips a session of {duration:g} s at {sr // 1000} kHz"
        f"{spread_note}; faults: {faults}). Trained on one session's training clips, tested on the other "
        "session's test clips (normal and anomalous), both directions (session 1→2 is earlier→later); "
        "each section fitted and scored on its own and the metrics averaged over the sections; "
        "the seed is the generator's `random_state`"
    )
    return DevSet(name, note, generator=generator)


DEV_SETS = {
    s.name: s
    for s in (
        DevSet(
            "bldc_motor",
            "recordings cut into non-overlapping 2 s clips (mono, 16 kHz). Split per motor (M1-M3): its normal "
            "recordings in order of speed (1400 → 2000 rpm) cut in two contiguous blocks, the lower speeds "
            "against the higher, both directions; every anomalous clip tests",
            folder="bldc_motor",
        ),
        DevSet(
            "fan",
            "5 s segments as they are. Split per recording session (2020-03-18, 2021-02-10): its normal "
            "recordings in time order cut in two contiguous blocks, both directions; every anomalous clip tests",
            folder="fan",
        ),
        DevSet(
            "fan-drift",
            "5 s segments as they are. Trained on every normal recording of 2020-03-18, tested on those of "
            "2021-02-10 (eleven months later) and every anomalous clip: the drift test, one direction",
            folder="fan",
        ),
        DevSet(
            "paper_machine",
            "21-42 ms snippets (96 kHz, decoded at 16 kHz): a robustness case for very short clips. "
            "Loudness alone separates the classes, inverted, so an AUC below 0.5 means the detector "
            "measures level. Split: the normal snippets in file order (their numbers) cut in two contiguous "
            "blocks, both directions",
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


#: The two directions of every split: which block trains (``audioad.evaluation.TRAIN_ON``) and its name.
DIRECTIONS = {"earlier": "earlier→later", "later": "later→earlier"}


def prepare(name: str, seeds, cache: Path, data: Path):
    """Decode set ``name`` into ``cache`` and plan its splits: ``(plan, description)``.

    ``plan[key]`` holds ``clips`` (the cache key), ``sr``, ``seed`` (the generator's seed, 0 for
    the real sets; the detectors' ``random_state``), ``direction`` (``earlier→later``,
    ``later→earlier``), ``dropped`` (test clips identical to a training clip, left out) and
    ``sections``, each a dict of ``name``, ``train`` and ``test`` (clip indices) and ``y`` (the test
    labels, 1 anomalous); real sections also carry ``train_groups`` (the recording of each training
    clip, for a detector whose ``fit`` takes ``groups``), synthetic ones ``test_domains``
    (``source``/``target`` per test clip). ``seeds`` are the synthetic generator's; the real sets
    are what they are.
    """
    spec = DEV_SETS[name]
    if spec.real:
        return _prepare_real(Path(data) / spec.folder, name, cache)
    return _prepare_synthetic(spec, seeds, cache)


def _strata(name: str, groups):
    """What each recording is split within: the motor (bldc_motor), the session's date (fan), or nothing."""
    if name == "bldc_motor":
        return [group.split("_")[0] for group in groups]
    if name.startswith("fan"):
        return [re.search(r"(\d{8})", group).group(1) for group in groups]
    return None


def _prepare_real(folder: Path, name: str, cache: Path):
    from audioad.evaluation import clip_fingerprint, split_in_time

    waves, labels, groups = load_real(folder, name)
    key = save_clips(waves, cache / name)
    fingerprints = [clip_fingerprint(w) for w in waves]
    strata = _strata(name, groups)
    if name == "fan-drift":
        first = min(strata)
        train = [i for i, label in enumerate(labels) if label == 0 and strata[i] == first]
        splits = {"2020→2021": (train, [i for i, label in enumerate(labels) if label == 1 or strata[i] != first])}
    else:
        splits = {
            direction: split_in_time(labels, groups, strata, train_on=train_on)
            for train_on, direction in DIRECTIONS.items()
        }
    plan = {}
    for direction, (train, test) in splits.items():
        seen = {fingerprints[i] for i in train}
        kept = [i for i in test if fingerprints[i] not in seen]
        section = {
            "name": name,
            "train": train,
            "train_groups": [groups[i] for i in train],
            "test": kept,
            "y": [labels[i] for i in kept],
        }
        plan[direction] = {
            "clips": key,
            "sr": SR,
            "seed": 0,
            "direction": direction,
            "dropped": len(test) - len(kept),
            "sections": [section],
        }
    counts = "; ".join(f"{d}: {summary_counts({d: e})}" for d, e in plan.items())
    return plan, f"{len(waves)} clips from {len(set(groups))} recordings; {counts}; {dropped_text(plan)}"


def _prepare_synthetic(spec: DevSet, seeds, cache: Path):
    from audioad.audio import load_audio
    from audioad.datasets import make_machine_sounds
    from audioad.evaluation import clip_fingerprint

    plan = {}
    for seed in seeds:
        folder = cache / f"{spec.name}_{seed}"
        table = make_machine_sounds(folder, random_state=seed, **spec.generator)
        waves = [load_audio(clip.path, sr=spec.sr)[0].astype(np.float32) for clip in table]
        fingerprints = [clip_fingerprint(w) for w in waves]
        key = save_clips(waves, folder)
        for (train_session, test_session), direction in zip((("1", "2"), ("2", "1")), DIRECTIONS.values()):
            sections, dropped = [], 0
            for machine_type in table.machines:
                for section in table.filter(machine=machine_type).sections:
                    index = [i for i, c in enumerate(table) if c.machine == machine_type and c.section == section]
                    recorded = {i: (table[i].split, table[i].attributes["session"]) for i in index}
                    train = [i for i in index if recorded[i] == ("train", train_session)]
                    test = [i for i in index if recorded[i] == ("test", test_session)]
                    seen = {fingerprints[i] for i in train}
                    kept = [i for i in test if fingerprints[i] not in seen]
                    dropped += len(test) - len(kept)
                    sections.append(
                        {
                            "name": f"{machine_type}/{section}",
                            "train": train,
                            "test": kept,
                            "y": [int(table[i].label == "anomaly") for i in kept],
                            "test_domains": [table[i].domain for i in kept],
                        }
                    )
            plan[f"{seed}:{direction}"] = {
                "clips": key,
                "sr": spec.sr,
                "seed": seed,
                "direction": direction,
                "dropped": dropped,
                "sections": sections,
            }
    n_sections = len(next(iter(plan.values()))["sections"])
    return plan, (
        f"{n_sections} sections; per section and split {summary_counts(plan, per_section=True)}; {dropped_text(plan)}"
    )


def dropped_text(plan) -> str:
    """How many test clips were dropped as identical to a training clip, per direction."""
    per_direction = {}
    for entry in plan.values():
        per_direction[entry["direction"]] = per_direction.get(entry["direction"], 0) + entry["dropped"]
    return "test clips identical to a training clip, dropped: " + ", ".join(
        f"{count} ({direction})" for direction, count in per_direction.items()
    )


def summary_counts(plan, per_section=False) -> str:
    """Train / test normal / test anomalous clip counts, averaged over splits (and sections)."""
    rows = [
        (len(s["train"]), len(s["y"]) - sum(s["y"]), sum(s["y"]))
        for entry in plan.values()
        for s in (entry["sections"] if per_section else entry["sections"][:1])
    ]
    train, normal, anomaly = np.mean(rows, axis=0)
    return f"{train:.0f} train, {normal:.0f} normal + {anomaly:.0f} anomalous test clips"
