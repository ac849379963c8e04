"""Which files the `audioad` command reads: folder search, bad files in fit, duplicates, evaluate's inputs.

One test per finding of issue 17 (items 2 and 6), each driving `audioad` as a subprocess as
tests/test_cli.py does, plus unit tests of :mod:`audioad.collect`.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows

from audioad.collect import collect, header_errors
from audioad.folders import Collected, find_audio, is_audio_file

SR = 16000


def noise(path, seed=0, seconds=0.5, loud=0.1, **kwargs):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, loud * np.random.default_rng(seed).standard_normal(int(SR * seconds)), SR, **kwargs)
    return path


def good_clips(folder, n=6):
    return [noise(Path(folder) / f"clip_{i}.wav", seed=i) for i in range(n)]


# -- fit: every bad file reported in one run ---------------------------------------------------------


def bad_files(folder):
    folder = Path(folder)
    (folder / "junk.wav").write_bytes(b"RIFF\x00\x00not a wave")
    (folder / "empty.flac").write_bytes(b"")
    # A good header over NaN samples: found only when decoded, past the header check.
    nan = np.full(SR // 2, np.nan, dtype=np.float32)
    sf.write(folder / "nan.wav", nan, SR, subtype="FLOAT")
    return ["junk.wav", "empty.flac", "nan.wav"]


def test_fit_reports_every_bad_file_and_saves_the_model(tmp_path):
    good_clips(tmp_path / "train")
    names = bad_files(tmp_path / "train")
    model = tmp_path / "m.audioad"
    result = audioad("fit", tmp_path / "train", "--detector", "mel-knn", "--out", model, "-q")
    assert result.returncode == 1, result.stderr
    assert "3 of 9 files could not be read" in result.stderr
    assert all(name in result.stderr for name in names)
    assert "on 6 clips" in result.stdout and model.is_file()


def test_fit_on_error_raise_stops_at_the_first_bad_file(tmp_path):
    good_clips(tmp_path / "train")
    bad_files(tmp_path / "train")
    model = tmp_path / "m.audioad"
    result = audioad("fit", tmp_path / "train", "--detector", "mel-knn", "--out", model, "--on-error", "raise", "-q")
    assert result.returncode == 1
    assert "cannot fit" in result.stderr and "could not be read" not in result.stderr
    assert not model.exists()


# -- folder search: hidden files, sidecars, VCS folders; every libsndfile format; duplicates -------------


def test_folder_search_skips_sidecars_hidden_files_and_vcs_folders(tmp_path):
    good_clips(tmp_path / "train")
    (tmp_path / "train" / "._clip_0.wav").write_bytes(b"\x00\x05\x16\x07Mac OS X        ")
    (tmp_path / "train" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    noise(tmp_path / "train" / ".git" / "objects" / "old.wav")
    noise(tmp_path / "train" / ".Trash" / "deleted.wav")
    model = tmp_path / "m.audioad"
    result = audioad("fit", tmp_path / "train", "--detector", "mel-knn", "--out", model, "-q")
    assert result.returncode == 0, result.stderr
    assert "on 6 clips" in result.stdout
    assert "skipped 1 hidden file, 1 hidden folder, 1 ._ sidecar, 1 version-control folder" in result.stderr


def test_every_format_libsndfile_reads_is_found(tmp_path):
    folder = tmp_path / "mixed"
    good_clips(folder, 2)
    noise(folder / "a.aiff", 1)
    noise(folder / "b.au", 2)
    noise(folder / "c.w64", 3)
    noise(folder / "recorder_take", 4, format="WAV")  # a WAV without a suffix
    noise(folder / "d.dat", 5, format="WAV")  # a WAV under a suffix that names no type
    (folder / "notes.txt").write_text("RIFF but a text file")
    (folder / "blob").write_bytes(b"not audio at all")
    found = {Path(p).name for p in find_audio(folder)}
    assert found == {"clip_0.wav", "clip_1.wav", "a.aiff", "b.au", "c.w64", "recorder_take", "d.dat"}

    model = tmp_path / "m.audioad"
    assert audioad("fit", folder, "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    out = tmp_path / "scores.csv"
    result = audioad("score", model, folder, "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    assert {Path(r["path"]).name for r in rows(out)} == found and all(r["score"] for r in rows(out))


def test_the_same_folder_given_twice_is_scored_once(tmp_path):
    clips = good_clips(tmp_path / "train")
    model = tmp_path / "m.audioad"
    assert audioad("fit", tmp_path / "train", "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    out = tmp_path / "scores.csv"
    result = audioad("score", model, tmp_path / "train", tmp_path / "train", clips[0], "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "7 duplicates removed" in result.stderr
    assert sorted(r["path"] for r in rows(out)) == sorted(map(str, clips))


# -- collect.py ------------------------------------------------------------------------------------


def test_collect_keeps_the_first_place_and_counts(tmp_path):
    a, b = noise(tmp_path / "x" / "a.wav"), noise(tmp_path / "x" / "b.wav", 1)
    (tmp_path / "x" / "._a.wav").write_bytes(b"junk")
    clips, collected = collect([b, tmp_path / "x", tmp_path / "x" / ".." / "x" / "a.wav"])
    assert clips == [str(b), str(a)]
    assert collected == Collected(sidecars=1, duplicates=2)
    assert collected.notice() == "skipped 1 ._ sidecar; 2 duplicates removed"


def test_collect_refuses_a_folder_without_audio(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("no audio")
    with pytest.raises(FileNotFoundError, match="no audio files"):
        collect([tmp_path / "empty"])


def test_a_file_named_by_its_suffix_as_something_else_is_not_probed(tmp_path, monkeypatch):
    noise(tmp_path / "wave.txt", format="WAV")
    probed = []
    monkeypatch.setattr(sf, "info", lambda path: probed.append(path))
    assert not is_audio_file(tmp_path / "wave.txt") and probed == []
    assert is_audio_file(tmp_path / "unknown.qqq") and probed == [str(tmp_path / "unknown.qqq")]


def test_header_errors_name_each_bad_file_by_its_place(tmp_path):
    clips = [*good_clips(tmp_path, 2), tmp_path / "missing.wav"]
    bad_files(tmp_path)
    clips += [tmp_path / "junk.wav", tmp_path / "nan.wav", tmp_path / "empty.flac"]
    errors = header_errors(clips)
    # nan.wav has a good header: its samples fail when decoded, not here.
    assert [(e.index, Path(e.path).name) for e in errors] == [(2, "missing.wav"), (3, "junk.wav"), (5, "empty.flac")]
    assert "not found" in errors[0].cause and "empty" in errors[2].cause


# -- evaluate's inputs -----------------------------------------------------------------------------


def motor_manifest(root, group_column=False):
    """bldc_motor-like: the same base names under several motors, no section, optionally no group."""
    lines = ["path,label" + (",group" if group_column else "")]
    for m in range(1, 5):
        for rpm in (1400, 1500):
            for kind, label in (("healthy", "normal"), ("bearing", "anomaly")):
                relative = f"{kind}/M{m}/{rpm}.wav"
                noise(root / relative, seed=m * 10 + rpm, loud=0.1 if label == "normal" else 0.5)
                lines.append(f"{relative},{label}" + (f",M{m}_{kind}_{rpm}" if group_column else ""))
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def test_evaluate_a_manifest_names_files_by_machine_and_lists_relative_paths(tmp_path):
    manifest = motor_manifest(tmp_path / "motor", group_column=True)
    out = tmp_path / "out"
    result = audioad("evaluate", manifest, "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.glob("*_test.csv"))
    assert written == ["anomaly_score_motor_test.csv", "decision_result_motor_test.csv"]
    with open(out / "anomaly_score_motor_test.csv", newline="") as f:
        names = [name for name, _ in csv.reader(f)]
    assert len(names) == len(set(names)) and "bearing/M1/1400.wav" in names
    assert all((tmp_path / "motor" / name).is_file() for name in names)


def fan_segments(root):
    """fan-like: recordings cut into numbered 5 s segments, no group column."""
    lines = ["path,label"]
    for r in range(6):
        for segment in range(1, 4):
            relative = f"on/ON_2020031{r}T204454_{segment}.wav"
            noise(root / relative, seed=100 * r + segment)
            lines.append(f"{relative},normal")
    for segment in range(1, 4):
        relative = f"tapping/TAPPING_20200318T205340_{segment}.wav"
        noise(root / relative, seed=segment, loud=0.6)
        lines.append(f"{relative},anomaly")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def test_evaluate_a_manifest_without_groups_warns_and_splits_by_recording(tmp_path):
    manifest = fan_segments(tmp_path / "fan")
    out = tmp_path / "out"
    result = audioad("evaluate", manifest, "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "says nothing of which clips come from one recording" in result.stderr
    tested = {Path(r["path"]).name for r in rows(out / "results.csv") if r["label"] == "normal"}
    for recording in range(6):
        segments = {f"ON_2020031{recording}T204454_{s}.wav" for s in range(1, 4)}
        # Split in time: the earlier three recordings train, the later three are tested, whole.
        assert segments <= tested if recording >= 3 else not segments & tested
    assert "split in time: trained on the earlier 3 of 6 normal recordings (9 clips)" in result.stdout


def test_evaluate_normal_and_anomaly_folders(tmp_path):
    root = tmp_path / "pump"
    for i in range(8):
        noise(root / "normal" / f"n{i:02d}.wav", seed=i)
    for i in range(4):
        noise(root / "abnormal" / f"a{i:02d}.wav", seed=50 + i, loud=0.6)
    out = tmp_path / "out"
    result = audioad("evaluate", root, "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "not a supported layout" not in result.stderr and "hmean(AUC, pAUC)" in result.stdout
    results = rows(out / "results.csv")
    assert {r["machine"] for r in results} == {"pump"}
    assert sum(r["label"] == "anomaly" for r in results) == 4
