"""Model files: exact round trips for every detector, clear errors for every bad file."""

import io
import json
import zipfile

import numpy as np
import pytest
from conftest import REGISTRY, small_detector

import audioad
from audioad import EmbeddingOD
from audioad.persistence import FORMAT_VERSION, ModelFileError, load, read_header, save


@pytest.fixture(scope="module", params=REGISTRY)
def saved(request, machine, tmp_path_factory):
    train, _, _ = machine
    detector = small_detector(request.param).fit(train)
    path = tmp_path_factory.mktemp("models") / "model.audioad"
    save(detector, path)
    return detector, path


def test_scores_identical_after_round_trip(saved, machine):
    detector, path = saved
    _, test, _ = machine
    loaded = load(path)
    assert type(loaded) is type(detector)
    assert loaded.get_params().keys() == detector.get_params().keys()
    np.testing.assert_array_equal(loaded.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    assert loaded.threshold_ == detector.threshold_
    np.testing.assert_array_equal(loaded.predict(test), detector.predict(test))
    np.testing.assert_array_equal(
        loaded.predict_proba(test, method="unify"), detector.predict_proba(test, method="unify")
    )


def test_frame_scores_identical_after_round_trip(saved, machine):
    detector, path = saved
    _, test, _ = machine
    try:
        expected = detector.frame_scores(test[:2])
    except TypeError:
        pytest.skip("scores whole clips")
    for before, after in zip(expected, load(path).frame_scores(test[:2])):
        np.testing.assert_array_equal(before.scores, after.scores)


def test_a_second_round_trip_changes_nothing(saved, machine, tmp_path):
    detector, path = saved
    _, test, _ = machine
    again = save(load(path), tmp_path / "again.audioad")
    np.testing.assert_array_equal(load(again).decision_function(test), detector.decision_function(test))


def test_header_describes_the_model(saved):
    detector, path = saved
    header = read_header(path)
    assert header["format"] == "audioad-model" and header["format_version"] == FORMAT_VERSION
    assert header["audioad_version"] == audioad.__version__
    assert header["detector"].endswith(type(detector).__name__)
    assert header["training"]["n_clips"] == len(detector.decision_scores_)
    assert header["training"]["threshold"] == pytest.approx(detector.threshold_)


def test_the_file_holds_no_pickle(saved):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            assert name == "audioad-model.json" or name.endswith(".npy")
            if name.endswith(".npy"):
                np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
            # Pickle streams of protocol 2+ start with 0x80.
            assert not data.startswith(b"\x80")


def test_detector_instance_parameter_round_trips(machine, tmp_path):
    from pyod.models.knn import KNN

    train, test, _ = machine
    detector = EmbeddingOD(detector=KNN(n_neighbors=3, method="mean"), sr=16000).fit(train)
    loaded = load(save(detector, tmp_path / "knn.audioad"))
    assert loaded.detector.n_neighbors == 3 and loaded.detector.method == "mean"
    np.testing.assert_array_equal(loaded.decision_function(test), detector.decision_function(test))


def test_unfitted_and_callable_encoders_refuse_to_save(machine, tmp_path):
    train, _, _ = machine
    with pytest.raises(ValueError, match="not fitted"):
        save(EmbeddingOD(), tmp_path / "x.audioad")
    detector = EmbeddingOD(encoder=lambda waves: np.array([[w.std()] for w in waves]), detector="KNN").fit(train)
    with pytest.raises(TypeError, match="function cannot be saved"):
        save(detector, tmp_path / "x.audioad")


def rewrite(path, out, edit_header=None, extra=None, drop=()):
    """Copy a model file, changing its header, adding or dropping members."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name in drop:
                continue
            data = source.read(name)
            if name == "audioad-model.json" and edit_header:
                header = json.loads(data)
                edit_header(header)
                data = json.dumps(header)
            target.writestr(name, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out


@pytest.fixture(scope="module")
def good_file(machine, tmp_path_factory):
    train, _, _ = machine
    return save(EmbeddingOD.for_audio("balanced", sr=16000).fit(train), tmp_path_factory.mktemp("good") / "m.audioad")


def object_array_npy():
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([print], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def set_array(header, name, dtype="<f8"):
    reference = header["state"]["decision_scores_"]
    header["state"]["decision_scores_"] = {**reference, "$array": name, "dtype": dtype}


def write(out, data):
    out.write_bytes(data)
    return out


BAD_FILES = {
    "missing": (lambda good, out: out, "no such model file"),
    "empty": (lambda good, out: write(out, b""), "not an audioad model file"),
    "random bytes": (lambda good, out: write(out, np.random.default_rng(0).bytes(999)), "not an audioad"),
    "truncated": (lambda good, out: write(out, good.read_bytes()[: good.stat().st_size // 2]), "truncated"),
    "zip without header": (lambda good, out: rewrite(good, out, drop=("audioad-model.json",)), "no audioad-model.json"),
    "other format": (lambda good, out: rewrite(good, out, lambda h: h.update(format="onnx")), "not an audioad model"),
    "newer version": (lambda good, out: rewrite(good, out, lambda h: h.update(format_version=99)), "upgrade audioad"),
    "format 1": (
        lambda good, out: rewrite(good, out, lambda h: h.update(format_version=1)),
        "format 1.*fit the detector",
    ),
    "format 2": (
        lambda good, out: rewrite(good, out, lambda h: h.update(format_version=2)),
        "format 2.*fit the detector again",
    ),
    "untrusted detector": (lambda good, out: rewrite(good, out, lambda h: h.update(detector="os.system")), "rebuild"),
    "non-detector class": (
        lambda good, out: rewrite(good, out, lambda h: h.update(detector="sklearn.neighbors.KNeighborsClassifier")),
        "not a detector a model file may hold",
    ),
    "untrusted estimator": (
        lambda good, out: rewrite(
            good, out, lambda h: h["state"].update(scaler_={"class": "subprocess.Popen", "params": {}, "state": {}})
        ),
        "subprocess.Popen",
    ),
    "pickled array": (
        lambda good, out: rewrite(
            good, out, lambda h: set_array(h, "arrays/9998.npy"), {"arrays/9998.npy": object_array_npy()}
        ),
        "holds |O",
    ),
    "object dtype declared": (
        lambda good, out: rewrite(
            good, out, lambda h: set_array(h, "arrays/9998.npy", "|O"), {"arrays/9998.npy": object_array_npy()}
        ),
        "dtype '|O' is not one of",
    ),
    "missing array": (lambda good, out: rewrite(good, out, lambda h: set_array(h, "arrays/9999.npy")), "is missing"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_give_a_clear_error(good_file, tmp_path, case):
    make, message = BAD_FILES[case]
    path = make(good_file, tmp_path / "bad.audioad")
    with pytest.raises(ModelFileError, match=message) as error:
        load(path)
    assert str(path) in str(error.value)


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="not a file"):
        load(tmp_path)


def test_an_ensemble_of_any_members_round_trips(machine, tmp_path):
    """Each member is stored through its own hooks: a network's weights, a PyOD detector's vectors."""
    pytest.importorskip("torch")
    from audioad import AudioAE, Ensemble, MelKNN

    train, test, _ = machine
    members = [MelKNN(), AudioAE(sr=16000, epoch_num=2, random_state=0), EmbeddingOD.for_audio("fast", sr=16000)]
    detector = Ensemble(members).fit(train)
    loaded = load(save(detector, tmp_path / "ensemble.audioad"))
    np.testing.assert_array_equal(loaded.decision_function(test), detector.decision_function(test))
    assert [type(m) for m in loaded.members_] == [type(m) for m in detector.members_]


@pytest.mark.parametrize("quality", ["fast", "balanced"])
def test_loading_an_embedding_model_does_not_retrain_it(machine, tmp_path, monkeypatch, quality):
    train, test, _ = machine
    detector = EmbeddingOD.for_audio(quality, sr=16000).fit(train)
    path = save(detector, tmp_path / "model.audioad")

    def refuse(*args, **kwargs):
        raise AssertionError("loading refitted the PyOD detector")

    monkeypatch.setattr(type(detector.detector_), "fit", refuse)
    loaded = load(path)
    np.testing.assert_array_equal(loaded.decision_function(test), detector.decision_function(test))


def test_lunar_loads_as_data_without_training_or_drawing_random_numbers(tmp_path, monkeypatch):
    """for_audio('best')'s LUNAR: its network's weights and its neighbours' vectors, no refit at load."""
    torch = pytest.importorskip("torch")
    from model_forgery import small_clips
    from pyod.models.lunar import LUNAR

    clips = small_clips(12)
    detector = EmbeddingOD.for_audio("best", detector=LUNAR(n_epochs=5, random_state=0), sr=16000).fit(clips)
    path = save(detector, tmp_path / "lunar.audioad")

    def refuse(*args, **kwargs):
        raise AssertionError("loading refitted LUNAR")

    monkeypatch.setattr(LUNAR, "fit", refuse)
    state = torch.random.get_rng_state()
    loaded = load(path)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(loaded.decision_function(clips), detector.decision_function(clips))


def test_pca_scaler_and_cached_embeddings_round_trip(tmp_path):
    from model_forgery import small_clips

    clips = small_clips(12)
    detector = EmbeddingOD.for_audio("balanced", sr=16000, reduce_dim=5, cache_embeddings=True, random_state=0)
    loaded = load(save(detector.fit(clips), tmp_path / "pca.audioad"))
    np.testing.assert_array_equal(loaded.pca_.components_, detector.pca_.components_)
    np.testing.assert_array_equal(loaded.train_embeddings_, detector.train_embeddings_)
    np.testing.assert_array_equal(loaded.decision_function(clips), detector.decision_function(clips))


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_every_mixture_covariance_round_trips(tmp_path, covariance_type):
    from model_forgery import small_clips

    from audioad import MelGMM

    clips = small_clips(8)
    detector = MelGMM(n_mels=16, covariance_type=covariance_type, sr=16000).fit(clips)
    loaded = load(save(detector, tmp_path / "gmm.audioad"))
    np.testing.assert_array_equal(loaded.decision_function(clips), detector.decision_function(clips))


def test_a_pyod_detector_that_is_not_data_cannot_be_saved(tmp_path):
    from model_forgery import small_clips

    detector = EmbeddingOD(detector="ECOD", sr=16000).fit(small_clips(8))
    with pytest.raises(TypeError, match="ECOD cannot be saved in a model file as data; it holds only pyod.IForest"):
        save(detector, tmp_path / "ecod.audioad")
    assert not (tmp_path / "ecod.audioad").exists()


def test_a_class_outside_the_registry_or_its_schema_cannot_be_saved(tmp_path):
    """What a new detector class meets until it is registered and its schemas declare its state."""
    from model_forgery import small_clips

    from audioad import MelKNN

    class Unregistered(MelKNN):
        pass

    clips = small_clips(6)
    with pytest.raises(TypeError, match="add it to audioad.persistence.registry"):
        save(Unregistered(n_mels=16).fit(clips), tmp_path / "x.audioad")
    detector = MelKNN(n_mels=16).fit(clips)
    detector.extra_ = np.zeros(3)
    with pytest.raises(TypeError, match="'extra_' not in its schema"):
        save(detector, tmp_path / "x.audioad")
    assert not list(tmp_path.iterdir())
