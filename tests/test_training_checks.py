"""Training data checked before it is learned (issue 24, items 4-9): layouts, the domain checks, --set, torch."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows

from audioad.collect import collect

SR = 16000


def noise(path, seed=0, seconds=0.5, loud=0.1, sr=SR, **kwargs):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, loud * np.random.default_rng(seed).standard_normal(int(sr * seconds)), sr, **kwargs)
    return path


# -- 4: the anomaly folder ---------------------------------------------------------------------------


def lathe(root, n_normal=6, n_anomaly=4):
    for i in range(n_normal):
        noise(root / "normal" / f"n{i}.wav", seed=i)
    for i in range(n_anomaly):
        noise(root / "anomaly" / f"a{i}.wav", seed=50 + i, loud=0.6)
    return root


def test_fit_never_trains_on_an_anomaly_folder(tmp_path):
    root = lathe(tmp_path / "lathe")
    clips, collected = collect([root], training=True)
    assert sorted(Path(c).parent.name for c in clips) == ["normal"] * 6 and collected.anomalous == 4
    run = audioad("fit", root, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "left out 4 clips labelled anomalous: a model learns from normal running only" in run.stderr
    assert "on 6 clips" in run.stdout
    # Scoring takes every clip, as it always did.
    assert len(collect([root])[0]) == 10


def test_fit_from_a_manifest_says_what_it_left_out(tmp_path):
    root = lathe(tmp_path / "lathe")
    lines = (
        ["path,label"] + [f"normal/n{i}.wav,normal" for i in range(6)] + [f"anomaly/a{i}.wav,anomaly" for i in range(4)]
    )
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    run = audioad("fit", root / "manifest.csv", "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "left out 4 clips labelled anomalous" in run.stderr and "on 6 clips" in run.stdout


# -- 5: the domain checks at fit ----------------------------------------------------------------------


def test_fit_says_which_training_clips_are_odd(tmp_path):
    folder = tmp_path / "train"
    for i in range(6):
        noise(folder / f"n{i}.wav", seed=i, loud=0.1)
    sf.write(folder / "silence.wav", np.zeros(SR // 2), SR)
    sf.write(folder / "clipped.wav", np.clip(3 * np.random.default_rng(9).standard_normal(SR // 2), -1, 1), SR)
    noise(folder / "phone.wav", seed=10, sr=8000)
    noise(folder / "faint.wav", seed=11, loud=0.001)
    run = audioad("fit", folder, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    [line] = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert "4 of 10 training clips are unlike a usable recording" in line
    assert all(kind in line for kind in ("1 silent", "1 clipped", "1 low rate", "1 quiet (")), line
    assert "Traceback" not in run.stderr


def test_fit_refuses_where_nothing_usable_is_left(tmp_path):
    folder = tmp_path / "tiny"
    for i in range(3):
        noise(folder / f"t{i}.wav", seed=i, seconds=0.004)
    run = audioad("fit", folder, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 1 and not (tmp_path / "m.audioad").exists()
    assert "none of the 3 training clips is usable: 3 too short (4 ms, less than one analysis window" in run.stderr


# -- 8: --set values checked before any clip is read ---------------------------------------------------


def test_a_bad_set_value_is_a_usage_error_before_any_clip_is_read(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import audioad.collect
    from audioad.cli import main

    def never(*args, **kwargs):
        raise AssertionError("a clip was looked for before the --set values were checked")

    monkeypatch.setattr(audioad.collect, "collect", never)
    runner = CliRunner()
    for setting in ("contamination=2", "contamination=0"):
        result = runner.invoke(main, ["fit", str(tmp_path), "--set", setting, "--out", str(tmp_path / "m")])
        assert result.exit_code == 2 and "contamination must be in (0, 0.5]" in result.output, result.output


def test_a_misspelt_set_key_gets_a_suggestion(tmp_path):
    run = audioad("fit", tmp_path, "--set", "n_mel=64", "--out", tmp_path / "m")
    assert run.returncode == 2 and "no parameter 'n_mel'; did you mean n_mels?" in run.stderr


def test_the_help_example_of_set_is_valid_for_the_default():
    from audioad.cli.models import build_detector

    run = audioad("fit", "--help")
    example = re.search(r"e\.g\. --set (\S+__\S+?)\. ", " ".join(run.stdout.split())).group(1)
    assert example == "frame_detector__top_fraction=0.2"
    assert build_detector("default", [example]).frame_detector.top_fraction == 0.2


# -- 9: a missing dependency said up front -------------------------------------------------------------


def test_audio_ae_without_torch_is_one_line_before_reading(tmp_path):
    folder = tmp_path / "train"
    for i in range(3):
        noise(folder / f"n{i}.wav", seed=i)
    code = textwrap.dedent(
        f"""
        import sys

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "torch":
                    raise ModuleNotFoundError(f"No module named {{name!r}}")

        sys.meta_path.insert(0, NoTorch())
        import audioad.collect
        from audioad.cli import main

        def never(*args, **kwargs):
            raise AssertionError("clips were read")

        audioad.collect.collect = never
        sys.exit(main(["fit", {str(folder)!r}, "--detector", "audio-ae", "--out", {str(tmp_path / "m")!r}]))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "needs torch; install it with `pip install audioad[deep]`" in run.stderr


# -- 2: the band the model hears -----------------------------------------------------------------------


def test_fit_info_and_report_say_which_band_the_model_hears(tmp_path):
    folder = tmp_path / "lathe48k"
    for i in range(6):
        noise(folder / f"n{i}.wav", seed=i, sr=48000)
    model = tmp_path / "lathe.audioad"
    run = audioad("fit", folder, "--detector", "mel-knn", "--out", model, "-q")
    assert run.returncode == 0, run.stderr
    band = "hears 0-8 kHz of 48 kHz recordings; 8-24 kHz left out"
    assert f"the model {band} (--set sr=48000 hears it all)" in run.stdout
    info = audioad("info", model)
    assert f"band            {band}" in info.stdout
    report = audioad("report", model, folder / "n0.wav", "--out", tmp_path / "r.html", "-q")
    assert report.returncode == 0, report.stderr
    assert band in (tmp_path / "r.html").read_text()


# -- 11: the smaller things ----------------------------------------------------------------------------


def test_fit_on_a_missing_folder_names_it_not_x(tmp_path):
    run = audioad("fit", tmp_path / "nonexistent", "--out", tmp_path / "m", "-q")
    assert run.returncode == 1 and "nonexistent (file not found" in run.stderr
    assert "X holds" not in run.stderr and "--segment" not in run.stderr


def test_notes_name_the_option_not_the_python_argument(tmp_path):
    sf.write(tmp_path / "long.wav", 0.1 * np.random.default_rng(0).standard_normal(SR * 70), SR)
    run = audioad("fit", tmp_path / "long.wav", "--detector", "mel-knn", "--out", tmp_path / "new" / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "(pass --segment to choose)" in run.stderr and "segment=" not in run.stderr
    assert f"note: made the folder {tmp_path / 'new'} for the model file" in run.stderr


def test_watch_on_a_missing_folder_says_only_that(tmp_path):
    sf.write(tmp_path / "n.wav", 0.1 * np.random.default_rng(0).standard_normal(SR * 20), SR)
    fitted = audioad("fit", tmp_path / "n.wav", "--segment", "2s", "--detector", "mel-knn", "--out", tmp_path / "m")
    assert fitted.returncode == 0, fitted.stderr
    run = audioad("watch", tmp_path / "m.audioad", tmp_path / "nonexistent", "--out", tmp_path / "w.csv")
    assert run.returncode == 2 and "not a folder" in run.stderr and "note:" not in run.stderr


# -- 10: manifests ---------------------------------------------------------------------------------------


def two_pumps(root):
    """A manifest of two pumps told apart by a 'condition' column only (no 'machine', no 'section')."""
    lines = ["path,label,group,condition"]
    for machine, hz in (("pumpA", 150), ("pumpB", 400)):
        t = np.arange(8000) / SR
        for i in range(6):
            wave = 0.3 * np.sin(2 * np.pi * hz * t) + 0.02 * np.random.default_rng(i).standard_normal(8000)
            root.mkdir(parents=True, exist_ok=True)
            sf.write(root / f"{machine}_{i}.wav", wave, SR)
            lines.append(f"{machine}_{i}.wav,normal,{machine}{i},{machine}")
        for i in range(3):
            noise(root / f"{machine}_a{i}.wav", seed=50 + i, loud=0.3)
            lines.append(f"{machine}_a{i}.wav,anomaly,{machine}a{i},{machine}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def test_a_manifest_without_machine_but_with_another_category_is_warned_and_none_is_never_printed(tmp_path):
    manifest = two_pumps(tmp_path / "pumps")
    report = tmp_path / "r.html"
    run = audioad("evaluate", manifest, "--detector", "mel-knn", "--report", report, "-q")
    assert run.returncode == 0, run.stderr
    assert "has no 'machine' or 'section' column" in run.stderr and "'condition' (pumpA, pumpB)" in run.stderr
    assert "None" not in run.stdout and "None" not in report.read_text()
    fit = audioad("fit", manifest, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert fit.returncode == 0 and "'condition' (pumpA, pumpB)" in fit.stderr


def test_the_readme_lists_a_manifests_columns():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("### Manifest columns") :]
    for column in ("path", "label", "machine", "section", "domain", "split", "group"):
        assert f"`{column}`" in section[:3000], column


# -- 7: a bare array at another rate ---------------------------------------------------------------------


def test_a_bare_array_at_another_rate_is_warned():
    import warnings

    from audioad import MelKNN

    rng = np.random.default_rng(0)

    def machine(rate):
        # Two resonances, at 300-600 Hz and 2-4 kHz: recorded at 48 kHz and taken at 16 kHz, they lie a third as high.
        from scipy import signal

        y = 0.01 * rng.standard_normal(rate)
        for band in ((300, 600), (2000, 4000)):
            resonance = signal.butter(4, band, btype="bandpass", fs=rate, output="sos")
            y += signal.sosfilt(resonance, rng.standard_normal(rate))
        return 0.2 * y

    detector = MelKNN().fit([machine(SR) for _ in range(6)])
    at_48k = machine(48000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.decision_function([at_48k])
    [warning] = [w for w in caught if "bare array" in str(w.message)]
    assert "clip 0: a bare array is taken at the model's 16000 Hz" in str(warning.message)
    assert "pass (waveform, 48000)" in str(warning.message)
    assert detector.score_clips([at_48k]).warnings[0][-1].startswith("rate: ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector.decision_function([(at_48k, 48000), machine(SR)])


# -- 6: channels that cancel when mixed ----------------------------------------------------------------


def test_channels_that_cancel_when_mixed_are_said_to_not_silence(tmp_path):
    folder = tmp_path / "train"
    for i in range(6):
        noise(folder / f"n{i}.wav", seed=i)
    left = 0.1 * np.random.default_rng(7).standard_normal(SR // 2)
    sf.write(tmp_path / "anti-phase.wav", np.stack([left, -left], axis=1), SR, subtype="FLOAT")
    sf.write(tmp_path / "silence.wav", np.zeros((SR // 2, 2)), SR)
    fitted = audioad("fit", folder, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert fitted.returncode == 0, fitted.stderr
    out = tmp_path / "scores.csv"
    run = audioad("score", tmp_path / "m.audioad", tmp_path / "anti-phase.wav", tmp_path / "silence.wav", "-o", out)
    assert run.returncode == 0, run.stderr
    by_name = {Path(row["path"]).name: row["warning"] for row in rows(out)}
    assert "silent: its channels cancel when mixed to mono" in by_name["anti-phase.wav"]
    assert "score one channel alone" in by_name["anti-phase.wav"]
    assert by_name["silence.wav"].startswith("silent: digital silence")


def test_channel_scores_one_channel_alone(tmp_path):
    folder = tmp_path / "train"
    for i in range(6):
        noise(folder / f"n{i}.wav", seed=i)
    left = 0.1 * np.random.default_rng(7).standard_normal(SR // 2)
    sf.write(tmp_path / "anti-phase.wav", np.stack([left, -left], axis=1), SR)
    fitted = audioad("fit", folder, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert fitted.returncode == 0, fitted.stderr
    mixed = audioad("score", tmp_path / "m.audioad", tmp_path / "anti-phase.wav", "-o", tmp_path / "mixed.csv")
    assert "--channel N scores channel N alone" in mixed.stderr
    run = audioad(
        "score", tmp_path / "m.audioad", tmp_path / "anti-phase.wav", "--channel", "1", "-o", tmp_path / "c.csv"
    )
    assert run.returncode == 0, run.stderr
    [row] = rows(tmp_path / "c.csv")
    assert row["path"] == str(tmp_path / "anti-phase.wav") and row["warning"] == "" and row["label"] == "0"
    wrong = audioad(
        "score", tmp_path / "m.audioad", tmp_path / "anti-phase.wav", "--channel", "2", "-o", tmp_path / "w.csv"
    )
    assert wrong.returncode == 1 and "channel 2 asked for, but the clip has 2 channel(s)" in wrong.stderr


# -- 11: codec warnings: lossy codecs only, and for segments too -------------------------------------------


def test_codec_warnings_for_lossy_copies_only_and_for_segments(tmp_path):
    from audioad import MelKNN

    wave = 0.1 * np.random.default_rng(3).standard_normal(SR * 6)
    sf.write(tmp_path / "train.wav", wave, SR, subtype="PCM_16")
    detector = MelKNN().fit([str(tmp_path / "train.wav")], segment="1s")
    sf.write(tmp_path / "copy.flac", wave, SR, subtype="PCM_24")
    sf.write(tmp_path / "copy.wav", wave, SR, subtype="FLOAT")
    sf.write(tmp_path / "copy.ogg", wave, SR, format="OGG", subtype="VORBIS")
    paths = [str(tmp_path / name) for name in ("copy.flac", "copy.wav", "copy.ogg")]
    result = detector.score_segments(paths, segment="1s")
    warned = {Path(row.path).name: row.warning for row in result.rows}
    assert warned["copy.flac"] == warned["copy.wav"] == ""
    assert warned["copy.ogg"] == "codec: OGG VORBIS, the training files WAV PCM_16"


def test_the_reports_clip_table_is_sorted_by_score_without_empty_columns():
    from audioad.report import _clip_table

    rows_in = [
        {"path": "a.wav", "score": 0.5, "flagged": 0},
        {"path": "b.wav", "score": float("nan"), "flagged": 0, "error": "cannot decode"},
        {"path": "c.wav", "score": 2.5, "flagged": 1},
    ]
    table = _clip_table(rows_in, {})
    assert table.index("c.wav") < table.index("a.wav") < table.index("b.wav")
    assert "Section" not in table and "Condition" not in table
    assert "Section" in _clip_table([{**rows_in[0], "section": "pump section 00"}], {})


def test_a_long_files_excerpt_is_drawn_on_the_recordings_clock(tmp_path, monkeypatch):
    """Issue 24, 11: the report's table said 420.02-429.97 s and the excerpt's plot 0.08-7.47 s."""
    import audioad.plotting
    from audioad import MelKNN
    from audioad.report import clip_details

    rng = np.random.default_rng(0)
    detector = MelKNN(n_mels=64).fit([0.05 * rng.standard_normal(32000) for _ in range(6)])
    y = 0.05 * rng.standard_normal(9 * 60 * SR).astype(np.float32)
    y[300 * SR : 302 * SR] += 0.2 * np.sin(2 * np.pi * 3000 * np.arange(2 * SR) / SR)
    sf.write(tmp_path / "nine-minutes.flac", y, SR)
    drawn = []
    plot_clip = audioad.plotting.plot_clip
    monkeypatch.setattr(audioad.plotting, "plot_clip", lambda *a, **k: drawn.append(k) or plot_clip(*a, **k))
    details = clip_details(detector, str(tmp_path / "nine-minutes.flac"))
    assert drawn[0]["start"] == pytest.approx(details["excerpt"][0], abs=1e-3) and drawn[0]["start"] > 290
