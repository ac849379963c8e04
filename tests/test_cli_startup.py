"""`--set` on the default detector, nested parameters of an Ensemble, `info` on an ensemble, and a light start-up.

No timings here (the machine is shared and noisy): `benchmarks/startup.py` times the start-up.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import clone

import audioad
from audioad import cli, save
from audioad.cli.models import build_detector
from audioad.detectors.ensemble import Ensemble, default_detector
from audioad.detectors.knn import MelKNN
from audioad.detectors.registry import member_names
from audioad.detectors.window_knn import WindowKNN

# Heavy libraries that neither `import audioad` nor the light commands may import.
HEAVY = ("numpy", "scipy", "sklearn", "pyod", "torch", "matplotlib", "dask", "joblib", "numba")


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


@pytest.fixture(scope="module")
def ensemble_model(tmp_path_factory):
    """A small fitted default detector with 32 mels, saved."""
    rng = np.random.default_rng(0)
    clips = [(0.1 * rng.standard_normal(8000).astype(np.float32), 16000) for _ in range(8)]
    path = tmp_path_factory.mktemp("model") / "small.audioad"
    save(default_detector(n_mels=32, mel_knn_2__n_neighbors=2).fit(clips, progress=False), path)
    return path


def test_set_n_mels_on_the_default_sets_it_on_every_member():
    detector = build_detector("default", ["n_mels=64"])
    assert [member.n_mels for member in detector.members] == [64, 64, 64]
    assert detector.frame_detector.n_mels == 64


def test_a_members_own_setting_after_a_shared_one_wins():
    detector = build_detector("default", ["n_mels=64", "mel_knn_1__n_mels=32", "mel_knn_2__n_neighbors=3"])
    assert [member.n_mels for member in detector.members] == [32, 64, 64]
    assert [member.n_neighbors for member in detector.members] == [1, 3, 5]


def test_an_unknown_key_lists_the_valid_ones_nested_included(tmp_path):
    result = invoke("fit", tmp_path / "a.wav", "--set", "n_melz=64", "--out", tmp_path / "m.audioad")
    assert result.exit_code == 2 and "Usage:" in result.output
    assert "no parameter 'n_melz'" in result.output
    for key in ("combine", "n_folds", "mel_knn_1__n_mels", "mel_knn_2__pooling", "frame_detector__top_fraction"):
        assert key in result.output
    # Keys that hold detectors cannot be given on a command line and are not offered.
    assert "members," not in result.output and "frame_detector," not in result.output


@pytest.mark.parametrize(
    "setting, named",
    [
        ("n_mels=-3", "n_mels"),
        ("n_mels=abc", "n_mels"),
        ("combine=median", "combine"),
        ("frame_detector__top_fraction=2", "frame_detector: top_fraction"),
    ],
)
def test_a_bad_value_names_the_parameter_before_any_clip_is_read(tmp_path, setting, named):
    result = invoke("fit", tmp_path / "missing.wav", "--set", setting, "--out", tmp_path / "m.audioad")
    assert result.exit_code == 2
    assert named in result.output and "cannot fit on these clips" not in result.output
    assert not (tmp_path / "m.audioad").exists()


def test_info_shows_each_member_with_its_parameters(ensemble_model):
    result = invoke("info", ensemble_model)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "<detector>" not in result.output and "<estimator>" not in result.output
    members = lines.index(next(line for line in lines if line.startswith("members")))
    block = lines[members:]
    assert "  mel_knn_1  MelKNN" in block
    assert "  mel_knn_2  MelKNN" in block
    second = block.index("  mel_knn_2  MelKNN")
    assert '    pooling = "delta_std"' in block[second:] and "    n_neighbors = 2" in block[second:]
    assert block.count("    n_mels = 32") == 3  # the two MelKNN views and EventKNN
    frames = block.index("frame_detector (--set frame_detector__KEY=VALUE)  WindowKNN")
    assert "  n_mels = 32" in block[frames:] and "  context = 5" in block[frames:]
    # The ensemble's own parameters stay under "parameters".
    assert '  combine = "max"' in lines[:members]


def test_ensemble_nested_parameters_follow_scikit_learn():
    detector = default_detector()
    shallow = detector.get_params(deep=False)
    assert set(shallow) == {
        "members",
        "combine",
        "normalize",
        "n_folds",
        "contamination",
        "threshold_rule",
        "n_jobs",
        "frame_detector",
    }
    deep = detector.get_params(deep=True)
    assert deep["mel_knn_1"] is detector.members[0] and deep["frame_detector__context"] == 5
    assert deep["mel_knn_2__pooling"] == "delta_std"
    twin = clone(detector)
    assert twin.members[0] is not detector.members[0]
    assert repr(twin.get_params(deep=False)) == repr(shallow)
    twin.set_params(mel_knn_1__n_neighbors=4)
    assert twin.members[0].n_neighbors == 4 and detector.members[0].n_neighbors == 1


def test_replacing_a_member_by_name_leaves_the_callers_list_alone():
    members = [MelKNN(), WindowKNN()]
    detector = Ensemble(members).set_params(mel_knn=MelKNN(pooling="delta_std"))
    assert detector.members[0].pooling == "delta_std" and members[0].pooling == "mean"
    assert detector.members[1] is members[1]


def test_an_unknown_parameter_of_an_ensemble_is_a_value_error_listing_the_names():
    with pytest.raises(ValueError, match="no parameter 'n_melz'.*mel_knn_1__n_mels"):
        default_detector().set_params(n_melz=64)
    with pytest.raises(ValueError, match="no parameter 'n_melz'"):
        default_detector(n_melz=64)


def test_member_names_are_identifiers_numbered_by_class():
    names = member_names(["MelKNN", "WindowKNN", "MelKNN", "EmbeddingOD"])
    assert names == ["mel_knn_1", "window_knn", "mel_knn_2", "embedding_od"]
    assert all(name.isidentifier() for name in names)


def _imported_after(code):
    """The heavy libraries in sys.modules when ``code`` ends (or calls sys.exit), in a fresh interpreter."""
    probe = (
        "import atexit, json, sys\n"
        f"heavy = set({HEAVY!r})\n"
        "atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & heavy))))\n" + code
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1]), result


def test_import_audioad_imports_no_heavy_library():
    heavy, result = _imported_after("import audioad")
    assert heavy == [], result.stderr


@pytest.mark.parametrize("args", [["--help"], ["info", "--detectors"], ["fit", "--help"]])
def test_light_commands_import_no_heavy_library(args):
    heavy, result = _imported_after(f"from audioad.cli import main\nmain({args!r})")
    assert heavy == [], result.stderr
    assert "audioad" in result.stdout or "window-knn" in result.stdout


COMMANDS = ("fit", "score", "evaluate", "watch", "history", "dashboard", "plot", "report", "demo", "info")


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_help_of_every_command_imports_no_numerical_module(command):
    # -X importtime lists every module the interpreter imported, however it was reached (lazily or not).
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "audioad", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Usage:" in run.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}
    assert "audioad" in imported and not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_info_on_a_model_file_imports_no_heavy_library(ensemble_model):
    heavy, result = _imported_after(f"from audioad.cli import main\nmain(['info', {str(ensemble_model)!r}])")
    assert heavy == [], result.stderr
    assert "mel_knn_1" in result.stdout


def test_every_public_name_still_imports():
    for name in audioad.__all__:
        assert getattr(audioad, name) is not None
    from audioad import AudioAE, default_detector, load  # noqa: F401 - the import is the test

    assert set(audioad.__all__) <= set(dir(audioad))
    with pytest.raises(AttributeError):
        audioad.no_such_name  # noqa: B018 - the access is the test
