"""Fixtures shared by the detector tests: small machines, and a small instance of every registry detector."""

import csv
import subprocess
import sys

import pytest

from audioad.datasets import make_machine_sounds
from audioad.detectors.registry import DETECTORS, make_detector

SR = 16000


def audioad(*args, cwd=None):
    """Run the ``audioad`` command as a user would, in a fresh process; its CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "audioad", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def rows(path):
    """The rows of a CSV file, as dicts by column."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# LUNAR (PyOD's for_audio("best")) takes about two minutes to fit even 24 one-second clips on two
# cores; the other two EmbeddingOD presets run the same loading, featurising and model-file code.
REGISTRY = [name for name in DETECTORS if name != "embedding-best"]


def small_params(name):
    """The quickest settings of registry detector ``name`` at 16 kHz."""
    accepted = make_detector(name).get_params(deep=False)
    params = {"sr": SR, "random_state": 0, "epoch_num": 30, "batch_size": 64}
    if name == "event-knn":
        # Stretches of a quarter second, so that the 1 s clips of `machine` hold events (4 x 8 frames).
        params["scales"] = ((1, 8), (3, 8))
    return {key: value for key, value in params.items() if key in accepted}


def small_detector(name):
    """A quick-to-fit instance of registry detector ``name``; skips the test where it needs a missing torch."""
    if "epoch_num" in make_detector(name).get_params(deep=False):
        pytest.importorskip("torch")
    return make_detector(name, **small_params(name))


@pytest.fixture(scope="session")
def machine(tmp_path_factory):
    """A small, clearly anomalous machine: train paths, test paths, test labels."""
    table = make_machine_sounds(
        tmp_path_factory.mktemp("machine"),
        machines=("fan",),
        n_sections=1,
        n_train=24,
        n_test_normal=8,
        n_test_anomaly=8,
        duration=1.0,
        anomaly_strength=3.0,
        random_state=0,
    )
    test = table.filter(split="test")
    return table.filter(split="train").paths, test.paths, test.labels


@pytest.fixture(scope="session")
def pump(tmp_path_factory):
    """A synthetic pump whose anomalies are loud: (train paths, test paths, test labels)."""
    table = make_machine_sounds(
        tmp_path_factory.mktemp("pump"),
        machines=("pump",),
        n_sections=1,
        n_train=20,
        n_test_normal=8,
        n_test_anomaly=8,
        duration=1.0,
        anomaly_strength=3.0,
        random_state=1,
    )
    test = table.filter(split="test")
    return table.filter(split="train").paths, test.paths, test.labels
