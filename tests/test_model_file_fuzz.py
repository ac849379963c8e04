"""Mutated model files: each loads and scores exactly as the original, or raises ModelFileError.

Two small valid files are mutated: a fitted default ensemble (numbers, nested detectors, windows)
and an EmbeddingOD preset holding an isolation forest (a third-party estimator whose trees are
index tables). Mutations are what a damaged or forged file has: random bytes, truncations, JSON
edits of class names, declared shapes and array references, edited ``.npy`` headers, and tree
indices rewritten with their checksums fixed, as an attacker would. Loading runs in this process:
the validation must make a crash impossible, so a crash fails the whole run.
"""

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from model_forgery import HEADER, array_refs, read_model, small_clips, write_model

from audioad import EmbeddingOD, save
from audioad.detectors.ensemble import default_detector
from audioad.persistence import ModelFileError, load

FUZZ = settings(
    max_examples=40,
    deadline=5000,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLASS_NAMES = [
    "Ensemble",
    "MelKNN",
    "WindowKNN",
    "EmbeddingOD",
    "AudioAE",
    "pyod.IForest",
    "pyod.KNN",
    "pyod.LUNAR",
    "sklearn.StandardScaler",
    "sklearn.GaussianMixture",
    "audioad.detectors.knn.MelKNN",
    "pyod.models.lscp.LSCP",
    "os.system",
    "",
]


class Model:
    """A valid model file, as bytes, and what it scores."""

    def __init__(self, path, clips):
        self.data = path.read_bytes()
        self.header, self.arrays = read_model(path)
        self.clips = clips
        self.scores = load(path).decision_function(clips)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    clips = small_clips(12)
    ensemble = default_detector(sr=16000).fit(clips)
    forest = EmbeddingOD.for_audio("fast", sr=16000, random_state=0).fit(clips)
    return {
        "ensemble": Model(save(ensemble, folder / "ensemble.audioad"), clips[:3]),
        "forest": Model(save(forest, folder / "forest.audioad"), clips[:3]),
        "mutant": folder / "mutant.audioad",
    }


def loads_identically_or_refuses(model, path):
    try:
        loaded = load(path)
    except ModelFileError as exc:
        event(f"refused: {exc.cause.split('(')[0][:50]}")
        return
    np.testing.assert_array_equal(loaded.decision_function(model.clips), model.scores)
    event("loaded identically")


def loads_or_refuses(model, path):
    """For a forged but consistent file: refused, or loaded and scoring to numbers without a crash."""
    try:
        loaded = load(path)
    except ModelFileError as exc:
        event(f"refused: {exc.cause[:60]}")
        return
    assert loaded.decision_function(model.clips).shape == (len(model.clips),)
    event("loaded and scored")


which = st.sampled_from(["ensemble", "forest"])


@FUZZ
@given(which=which, flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=8))
def test_random_bytes(models, which, flips):
    model = models[which]
    data = bytearray(model.data)
    for where, value in flips:
        data[int(where * len(data))] ^= value
    models["mutant"].write_bytes(bytes(data))
    loads_identically_or_refuses(model, models["mutant"])


@FUZZ
@given(which=which, keep=st.floats(0, 1, exclude_max=True))
def test_truncations(models, which, keep):
    model = models[which]
    models["mutant"].write_bytes(model.data[: int(keep * len(model.data))])
    with pytest.raises(ModelFileError):
        load(models["mutant"])


def nodes_with(node, key, found=None):
    """Every dict of a header that has ``key``."""
    found = [] if found is None else found
    if isinstance(node, dict):
        if key in node:
            found.append(node)
        for value in node.values():
            nodes_with(value, key, found)
    elif isinstance(node, list):
        for value in node:
            nodes_with(value, key, found)
    return found


@FUZZ
@given(which=which, data=st.data())
def test_json_edits_of_class_names_shapes_and_references(models, which, data):
    model = models[which]
    header = json.loads(json.dumps(model.header))
    refs = list(array_refs(header))
    kind = data.draw(st.sampled_from(["class", "detector", "shape", "reference", "dtype"]))
    if kind == "class":
        node = data.draw(st.sampled_from(nodes_with(header, "class")))
        node["class"] = data.draw(st.sampled_from(CLASS_NAMES) | st.text(max_size=20))
    elif kind == "detector":
        header["detector"] = data.draw(st.sampled_from(CLASS_NAMES))
    elif kind == "shape":
        ref = data.draw(st.sampled_from(refs))
        sizes = st.integers(-2, 2**40) | st.sampled_from([0, 1, 2])
        ref["shape"] = data.draw(st.lists(sizes, max_size=4) | st.just(ref["shape"][::-1] + [1]))
    elif kind == "reference":
        ref = data.draw(st.sampled_from(refs))
        names = [r["$array"] for r in refs] + ["arrays/99999.npy", "../x.npy", "arrays/0000.npy"]
        ref["$array"] = data.draw(st.sampled_from(names))
    else:
        ref = data.draw(st.sampled_from(refs))
        ref["dtype"] = data.draw(st.sampled_from(["<f4", "<f8", "<i8", "|u1", "|b1", "|O", ">f8", "<c16", "V8"]))
    write_model(models["mutant"], header, model.arrays, fix_refs=False)
    if header == model.header:
        return
    loads_identically_or_refuses(model, models["mutant"])


@FUZZ
@given(which=which, data=st.data())
def test_npy_header_edits(models, which, data):
    model = models[which]
    name = data.draw(st.sampled_from(sorted(model.arrays)))
    array = model.arrays[name]
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    raw = bytearray(buffer.getvalue())
    end = raw.index(b"\n") + 1
    text = raw[:end].decode("latin1")
    edit = data.draw(st.sampled_from(["shape", "dtype", "order", "bytes"]))
    if edit == "shape":
        text = text.replace(f"'shape': {array.shape!r}", f"'shape': ({data.draw(st.integers(0, 2**40))},)")
    elif edit == "dtype":
        text = text.replace(
            repr(array.dtype.str), repr(data.draw(st.sampled_from(["|O", "<f4", ">f8", "<i2", "|V16"])))
        )
    elif edit == "order":
        text = text.replace("False", "True")
    else:
        at = data.draw(st.integers(0, end - 1))
        text = text[:at] + chr(data.draw(st.integers(0, 255))) + text[at + 1 :]
    member = text.encode("latin1") + bytes(raw[end:])
    with zipfile.ZipFile(models["mutant"], "w") as archive:
        archive.writestr(HEADER, json.dumps(model.header), zipfile.ZIP_DEFLATED)
        for other, value in model.arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, value)
            archive.writestr(other, member if other == name else buffer.getvalue())
    if member == bytes(raw):
        return
    loads_identically_or_refuses(model, models["mutant"])


TREE_ARRAYS = ["left_child", "right_child", "feature", "node_counts", "max_depths", "estimators_features", "threshold"]


@FUZZ
@given(
    field=st.sampled_from(TREE_ARRAYS),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(-3, 600) | st.sampled_from([2**31, -(2**40), np.nan])),
        min_size=1,
        max_size=4,
    ),
)
def test_forged_tree_indices(models, field, edits):
    """Tree tables rewritten with their checksums fixed: refused, or a forest that scores without a crash."""
    model = models["forest"]
    header = json.loads(json.dumps(model.header))
    name = header["state"]["detector_"]["state"][field]["$array"]
    arrays = dict(model.arrays)
    forged = arrays[name].copy()
    flat = forged.reshape(-1)
    for where, value in edits:
        if forged.dtype.kind == "f" or value == value:  # NaN only where it can be stored
            flat[int(where * flat.size)] = value
    arrays[name] = forged
    write_model(models["mutant"], header, arrays)
    loads_or_refuses(model, models["mutant"])
