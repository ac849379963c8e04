"""Fixtures shared by the detector tests: one small machine, and one small instance of every detector."""

import pytest

from audioad.datasets import make_machine_sounds

SR = 16000


def small_detectors():
    """One quick-to-fit instance of every detector configuration worth testing on its own."""
    from audioad import AudioAE, EmbeddingOD

    return [
        AudioAE(sr=SR, epoch_num=3, batch_size=256, random_state=0),
        AudioAE.dcase2023(epoch_num=3, random_state=0),
        EmbeddingOD.for_audio("fast", sr=SR, random_state=0),
        EmbeddingOD.for_audio("balanced", sr=SR),
    ]


def detector_id(detector):
    """A readable test id: the class and what sets this configuration apart."""
    extra = getattr(detector, "detector", None) or getattr(detector, "score", "")
    return f"{type(detector).__name__}-{extra}"


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
