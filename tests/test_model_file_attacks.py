"""Issue 26's attacks on model files, each built and refused: nothing runs, nothing is written, no crash, < 300 MB.

Each hostile file is loaded in a fresh process where memory or a crash is what is checked, so the
peak is the loader's own (the imports alone take about 200 MB).
"""

import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest
from model_forgery import HEADER, read_model, run_measured, small_clips, write_model

from audioad import EmbeddingOD, save
from audioad.persistence import ModelFileError, is_model_file, load, read_header

MEMORY_MB = 300


@pytest.fixture(scope="module")
def forest_file(tmp_path_factory):
    """A small fitted EmbeddingOD preset with an isolation forest (PyOD's for_audio('fast'))."""
    clips = small_clips()
    detector = EmbeddingOD.for_audio("fast", sr=16000, random_state=0).fit(clips)
    return save(detector, tmp_path_factory.mktemp("forest") / "fan.audioad")


def forged(good, out, edit=None, **write):
    header, arrays = read_model(good)
    if edit is not None:
        edit(header, arrays)
    return write_model(out, header, arrays, **write)


def refused_in_child(path, before="", then="", timeout=120):
    """Load ``path`` in a fresh process; what it printed, and its peak memory. The load must be refused."""
    code = f"""
from audioad.persistence import ModelFileError, load
{before}
try:
    load({str(path)!r})
    print("LOADED")
except ModelFileError as exc:
    print("REFUSED", exc)
{then}
"""
    rc, out, err, peak = run_measured(code, timeout=timeout)
    assert rc == 0, f"the loader crashed (exit {rc}): {err[-2000:]}"
    assert "REFUSED" in out, out
    print(f"\n{path.name}: refused, peak {peak:.0f} MB")  # shown with pytest -s
    assert peak < MEMORY_MB, f"peak {peak:.0f} MB"
    return out, peak


# -- 1. code execution through a refit of a PyOD LSCP holding a Pipeline(memory=DIR) --------------


def plant_pickle(folder, marker):
    """A joblib cache under ``folder`` whose output.pkl would create ``marker`` when unpickled."""

    class Touch:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for depth in ("joblib/sklearn/pipeline/_fit_transform_one/0123456789abcdef",):
        target = folder / depth
        target.mkdir(parents=True)
        (target / "output.pkl").write_bytes(pickle.dumps(Touch()))


def lscp_pipeline(cache):
    pipeline = {
        "class": "sklearn.Pipeline",
        "params": {"memory": str(cache), "steps": [["scale", {"class": "sklearn.StandardScaler", "params": {}}]]},
    }
    return {"class": "pyod.LSCP", "params": {"detector_list": [pipeline, pipeline], "n_bins": 2}}


def test_lscp_pipeline_memory_is_refused_and_runs_nothing(forest_file, tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "PWNED"
    plant_pickle(cache, marker)

    def edit(header, arrays):
        header["params"]["detector"] = lscp_pipeline(cache)
        header["state"]["detector_"] = {**lscp_pipeline(cache), "state": {}}

    path = forged(forest_file, tmp_path / "lscp.audioad", edit)
    before = sorted(p for p in tmp_path.rglob("*"))
    out, peak = refused_in_child(path)
    assert "pyod.LSCP" in out and "is not one of" in out
    assert not marker.exists()
    assert sorted(p for p in tmp_path.rglob("*")) == before
    # With nothing planted, no cache folder is made either.
    empty = tmp_path / "nowhere"
    forged(forest_file, tmp_path / "lscp2.audioad", lambda h, a: h["params"].update(detector=lscp_pipeline(empty)))
    with pytest.raises(ModelFileError):
        load(tmp_path / "lscp2.audioad")
    assert not empty.exists()


def test_info_shows_the_nested_estimator_and_its_path(forest_file, tmp_path):
    cache = tmp_path / "cache-dir"
    path = forged(
        forest_file, tmp_path / "lscp.audioad", lambda h, a: h["params"].update(detector=lscp_pipeline(cache))
    )
    from click.testing import CliRunner

    from audioad.cli import main

    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "pyod.LSCP" in result.output and str(cache) in result.output and "<estimator>" not in result.output


def test_a_format_1_file_is_refused_with_a_hint(forest_file, tmp_path):
    """The v1 attack file as it was written: class paths that the old loader imported."""
    header = {
        "format": "audioad-model",
        "format_version": 1,
        "audioad_version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "detector": "audioad.detectors.embedding.EmbeddingOD",
        "params": {"detector": {"$new": "pyod.models.lscp.LSCP", "params": {}}},
        "training": {"n_clips": 1, "threshold": 0.0, "score_mean": 0.0, "score_std": 0.0},
        "state": {"$dict": {}},
    }
    path = write_model(tmp_path / "v1.audioad", header, {})
    with pytest.raises(ModelFileError, match="format 1.*could run code.*fit the detector again") as error:
        load(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)
    # Still a model file, so that `audioad fit --force` may replace it.
    assert is_model_file(path)


# -- 2. importing modules named by the file --------------------------------------------------------


def test_class_names_import_nothing(forest_file, tmp_path):
    """Class paths under audioad.__main__ (ran the CLI) and pyod.models.devnet (reseeds global generators)."""
    paths = []
    for name in ("audioad.__main__.main", "pyod.models.devnet.DevNet"):
        for place in ("detector", "estimator"):

            def edit(header, arrays, place=place, name=name):
                if place == "detector":
                    header["detector"] = name
                else:
                    header["state"]["detector_"]["class"] = name

            paths.append(forged(forest_file, tmp_path / f"{place}-{name}.audioad", edit))
    code = f"""
import numpy as np
from audioad.persistence import ModelFileError, load
numpy_state = np.random.get_state()[1].copy()
for path in {[str(p) for p in paths]!r}:
    try:
        load(path)
        print("LOADED", path)
    except ModelFileError as exc:
        print("REFUSED", exc)
print("MODULES", sorted(m for m in sys.modules if m == "audioad.__main__" or "devnet" in m))
print("GENERATORS", "unmoved" if (np.random.get_state()[1] == numpy_state).all() else "reseeded")
"""
    rc, out, err, peak = run_measured(code)
    assert rc == 0, err
    assert out.count("REFUSED") == 4 and "LOADED" not in out
    assert "MODULES []" in out and "GENERATORS unmoved" in out
    print(f"\nclass names: 4 refused, peak {peak:.0f} MB")
    assert peak < MEMORY_MB


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "builtins.eval", "functools.partial"])
def test_the_allowlist_still_refuses_callables(forest_file, tmp_path, name):
    for place in ("detector", "estimator"):
        path = tmp_path / f"{place}.audioad"

        def edit(header, arrays, place=place):
            if place == "detector":
                header["detector"] = name
            else:
                header["state"]["scaler_"] = {"class": name, "params": {}, "state": {}}

        forged(forest_file, path, edit)
        with pytest.raises(ModelFileError, match="is not"):
            load(path)


# -- 3. tree node indices outside their table ------------------------------------------------------


def forest_arrays(header):
    return header["state"]["detector_"]["state"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("left_child", 10**9, "child index"),
        ("right_child", -7, "child index"),
        ("left_child", 0, "child index"),  # a cycle: a child before its parent
        ("feature", 10**6, "feature index"),
        ("feature", -5, "feature index"),
    ],
)
def test_tree_indices_outside_their_table_are_refused(forest_file, tmp_path, field, value, message):
    def edit(header, arrays):
        name = forest_arrays(header)[field]["$array"]
        nodes = arrays[name].copy()
        inner = np.flatnonzero(arrays[forest_arrays(header)["left_child"]["$array"]] != -1)
        nodes[inner[0]] = value
        arrays[name] = nodes

    path = forged(forest_file, tmp_path / "tree.audioad", edit)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_the_segfaulting_tree_is_refused_in_a_child_process(forest_file, tmp_path):
    """The issue's attack: load then score; the process must end normally, refusing the file."""

    def edit(header, arrays):
        left = forest_arrays(header)["left_child"]["$array"]
        arrays[left] = np.where(arrays[left] > 0, arrays[left] + 10**8, arrays[left])

    out, peak = refused_in_child(forged(forest_file, tmp_path / "segv.audioad", edit))
    assert "child index" in out


# -- 4. memory exhaustion from small files ---------------------------------------------------------


def test_a_header_of_a_billion_spaces_is_not_read(forest_file, tmp_path):
    header, arrays = read_model(forest_file)
    path = tmp_path / "spaces.audioad"
    write_model(path, header, arrays)
    with zipfile.ZipFile(forest_file) as source, zipfile.ZipFile(path, "w", compresslevel=1) as target:
        for name in source.namelist():
            if name != HEADER:
                target.writestr(source.getinfo(name), source.read(name))
        spaces = zipfile.ZipInfo(HEADER)
        spaces.compress_type = zipfile.ZIP_DEFLATED
        with target.open(spaces, "w") as member:
            member.write(json.dumps(header).encode())
            chunk = b" " * 2**20
            for _ in range(954):
                member.write(chunk)
    assert path.stat().st_size < 10 * 2**20
    read = f"from audioad.persistence import read_header\ntry:\n    read_header({str(path)!r})\n"
    for code in (
        read + "except ValueError as e:\n    print('REFUSED', e)",
        f"from audioad.cli import main\nsys.argv = ['audioad', 'info', {str(path)!r}]\nmain()",
    ):
        rc, out, err, peak = run_measured(code)
        print(f"\n{path.name}: refused, peak {peak:.0f} MB")
        assert peak < MEMORY_MB, f"peak {peak:.0f} MB"
        assert "over 2097152" in out + err
    assert rc == 2 and err.strip().splitlines()[-1].startswith(f"Error: {path}: model description of")


def zipfile_npy_prefix(dtype, shape):
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_an_npy_bomb_is_not_inflated(forest_file, tmp_path):
    """A compressed array member, and stored ones whose headers lie about their size.

    A compressed member is refused before it is inflated, whatever it would inflate to: 80 MB here
    (the issue's 2.16 GB takes half a minute to write, and is refused the same way).
    """
    header, arrays = read_model(forest_file)
    ref = header["state"]["decision_scores_"]
    n = 10_000_000
    prefix = zipfile_npy_prefix("<f8", (n,))
    path = tmp_path / "bomb.audioad"
    write_model(path, header, {k: v for k, v in arrays.items() if k != ref["$array"]})
    with zipfile.ZipFile(path, "a") as target:
        info = zipfile.ZipInfo(ref["$array"])
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as member:
            member.write(prefix)
            chunk = bytes(2**22)
            for _ in range(n * 8 // len(chunk)):
                member.write(chunk)
    assert path.stat().st_size < 2**20
    ref.update(shape=[n])
    out, peak = refused_in_child(path)
    assert "compressed" in out or "over" in out or "holds" in out

    # Stored, with an .npy header claiming 80 MB over a few bytes.
    lying = tmp_path / "lying.audioad"
    write_model(
        lying,
        header,
        {k: v for k, v in arrays.items() if k != ref["$array"]},
        fix_refs=False,
        extra={ref["$array"]: prefix + bytes(64)},
    )
    out, peak = refused_in_child(lying)
    assert "bytes of data, not" in out


def test_allocation_sizing_parameters_are_bounded(forest_file, tmp_path):
    def edit(header, arrays):
        header["state"]["detector_"]["params"]["n_estimators"] = 10**8

    out, peak = refused_in_child(forged(forest_file, tmp_path / "trees.audioad", edit))
    assert "n_estimators" in out and "outside" in out


def test_n_mels_of_a_billion_is_a_model_file_error(tmp_path):
    from audioad import MelKNN

    good = save(MelKNN(n_mels=16).fit(small_clips(6)), tmp_path / "knn.audioad")
    path = forged(good, tmp_path / "mels.audioad", lambda h, a: h["params"].update(n_mels=10**9))
    out, peak = refused_in_child(path)
    assert "n_mels" in out and "outside [1, 1024]" in out


def test_arrays_that_do_not_fit_together_are_refused(tmp_path):
    from audioad import MelKNN

    good = save(MelKNN(n_mels=16).fit(small_clips(6)), tmp_path / "knn.audioad")

    def edit(header, arrays):
        name = header["state"]["feature_mean_"]["$array"]
        arrays[name] = np.zeros(10**6)

    with pytest.raises(ModelFileError, match="n_features"):
        load(forged(good, tmp_path / "shapes.audioad", edit))
    # A setting in range that the stored arrays do not fit: by a shared dimension, or by the front end it makes.
    with pytest.raises(ModelFileError, match="n_mels is 32 elsewhere"):
        load(forged(good, tmp_path / "mels.audioad", lambda h, a: h["params"].update(n_mels=32)))

    def without_levels(header, arrays):
        header["params"]["n_mels"] = 32
        header["state"]["band_levels_"] = None

    with pytest.raises(ModelFileError, match="n_features_ is 16, but 1 values of 32 mel bands are 32"):
        load(forged(good, tmp_path / "mels.audioad", without_levels))


# -- info on malformed, deep and hostile headers ---------------------------------------------------


def info(path):
    from click.testing import CliRunner

    from audioad.cli import main

    return CliRunner().invoke(main, ["info", str(path)])


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"format": "audioad-model", "format_version": 3}',
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 5000 + "1" + "}" * 5000,
    ],
    ids=["not json", "a list", "fields missing", "deep lists", "deep objects"],
)
def test_info_on_a_malformed_header_is_one_line(forest_file, tmp_path, text):
    header, arrays = read_model(forest_file)
    path = write_model(tmp_path / "bad.audioad", header, arrays, header_text=text)
    result = info(path)
    assert result.exit_code == 2 and not isinstance(result.exception, (RecursionError, KeyError, TypeError))
    assert str(path) in result.output and result.output.strip().splitlines()[-1].startswith("Error: ")
    with pytest.raises(ModelFileError):
        read_header(path)


def test_info_on_mistyped_entries_is_one_line(forest_file, tmp_path):
    for edit in (
        lambda h: h.update(training={"n_clips": "many"}),
        lambda h: h.update(params=[1]),
        lambda h: h.update(detector={"x": 1}),
        lambda h: h["params"].update(detector={"class": 7, "params": {}}),
    ):
        header, arrays = read_model(forest_file)
        edit(header)
        result = info(write_model(tmp_path / "typed.audioad", header, arrays))
        assert result.exit_code in (0, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_info_escapes_terminal_sequences(forest_file, tmp_path):
    title = "\x1b]0;owned\x07"

    def edit(header, arrays):
        header["detector"] = f"EmbeddingOD{title}"
        header["created"] = "2026\r\nthreshold       0.0"
        header["params"][f"enc{title}\x1b[2J"] = f"x\x9b31m{title}"

    result = info(forged(forest_file, tmp_path / "escapes.audioad", edit))
    assert result.exit_code == 0, result.output
    assert not any(c in result.output for c in "\x1b\x07\r\x9b")
    assert "\\x1b]0;owned\\x07" in result.output
    assert "\\r\\nthreshold" in result.output
    # And load names the file in a one-line error, escaped too.
    with pytest.raises(ModelFileError) as error:
        load(tmp_path / "escapes.audioad")
    assert "\x1b" not in str(error.value)


# -- what held: zip traversal and links are never extracted ------------------------------------------


@pytest.mark.parametrize("name", ["../../evil.npy", "/tmp/evil.npy", "arrays/link.npy"])
def test_zip_traversal_and_links_are_refused(forest_file, tmp_path, name):
    member = zipfile.ZipInfo(name)
    member.external_attr = (stat.S_IFLNK | 0o777) << 16  # a symbolic link to /etc/passwd, as unzip would make it
    path = forged(forest_file, tmp_path / "zip.audioad", extra={member: b"/etc/passwd"})
    before = set(os.listdir(tmp_path))
    with pytest.raises(ModelFileError, match="unexpected member"):
        load(path)
    assert set(os.listdir(tmp_path)) == before
