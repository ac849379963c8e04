"""audioad's AudioAE and EmbeddingOD against PyOD 3.6.7's on the same clips."""

import warnings

import numpy as np
import pytest

from audioad import AudioAE, EmbeddingOD, auc
from audioad.datasets import make_machine_sounds

pytest.importorskip("torch")
pytest.importorskip("librosa")
pyod_audio_ae = pytest.importorskip("pyod.models.audio_ae")
pyod_embedding = pytest.importorskip("pyod.models.embedding")


@pytest.fixture(scope="module")
def fixed_set(tmp_path_factory):
    """One small fixed machine: training clips, test clips, test labels (waveforms at 22.05 kHz)."""
    table = make_machine_sounds(
        tmp_path_factory.mktemp("parity"),
        machines=("pump",),
        n_sections=1,
        n_train=30,
        n_test_normal=12,
        n_test_anomaly=12,
        duration=1.0,
        sr=22050,
        anomaly_strength=2.0,
        random_state=3,
    )
    test = table.filter(split="test")
    return table.filter(split="train").paths, test.paths, test.labels


def test_pyod_documented_example_runs_unchanged():
    """The Examples section of pyod.models.audio_ae.AudioAE, with audioad's class."""
    clips = [np.random.RandomState(s).randn(22050) for s in range(20)]
    clf = AudioAE(epoch_num=5)
    clf.fit(clips)
    scores = clf.decision_function(clips)
    assert scores.shape == (20,) and np.isfinite(scores).all()


@pytest.mark.slow
def test_audio_ae_matches_pyod(fixed_set):
    train, test, labels = fixed_set
    settings = dict(epoch_num=10, batch_size=256, random_state=0)
    ours = auc(labels, AudioAE(**settings).fit(train).decision_function(test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = auc(labels, pyod_audio_ae.AudioAE(**settings).fit(train).decision_function(test))
    assert ours > 0.75 and theirs > 0.75
    assert abs(ours - theirs) <= 0.05


@pytest.mark.parametrize("quality", ["fast", "balanced"])
def test_embedding_od_matches_pyod(fixed_set, quality):
    train, test, labels = fixed_set
    ours = auc(labels, EmbeddingOD.for_audio(quality, random_state=0).fit(train).decision_function(test))
    theirs = auc(
        labels, pyod_embedding.EmbeddingOD.for_audio(quality, random_state=0).fit(train).decision_function(test)
    )
    assert ours > 0.75 and theirs > 0.75
    assert abs(ours - theirs) <= 0.05


def test_descriptors_feed_the_same_detector_the_same_vectors(fixed_set):
    """With KNN (deterministic) the two pipelines score alike, not merely rank alike."""
    train, test, _ = fixed_set
    ours = EmbeddingOD.for_audio("balanced").fit(train).decision_function(test)
    theirs = pyod_embedding.EmbeddingOD.for_audio("balanced").fit(train).decision_function(test)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99
