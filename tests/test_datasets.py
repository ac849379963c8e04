"""Tests for audioad.datasets: folder layouts, manifests, DCASE result files, synthetic sounds."""

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import roc_auc_score

from audioad.datasets import (
    ANOMALY_KINDS,
    DEFAULT_ANOMALY_KINDS,
    ClipInfo,
    ClipTable,
    GroupWarning,
    make_machine_sounds,
    read_dataset,
    write_dcase_results,
)
from audioad.evaluation import split_in_time
from audioad.features import log_mel, time_pool

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # ../shared/data beside the checkout
SR = 16000


def write_noise(root: Path, *relative_paths: str) -> None:
    """Write 0.1 s of noise at each path under root."""
    rng = np.random.default_rng(0)
    for relative in relative_paths:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, 0.1 * rng.standard_normal(SR // 10), SR)


def by_name(table: ClipTable) -> dict:
    return {Path(clip.path).name: clip for clip in table}


# ---------------------------------------------------------------- folder layouts


def test_dcase2020_layout(tmp_path):
    write_noise(
        tmp_path,
        "fan/train/normal_id_00_00000000.wav",
        "fan/test/anomaly_id_02_00000001.wav",
        "fan/test/normal_id_02_00000002.wav",
        "pump/test/id_04_00000000.wav",
    )
    table = read_dataset(tmp_path)
    assert len(table) == 4 and table.machines == ["fan", "pump"]
    clips = by_name(table)
    assert clips["anomaly_id_02_00000001.wav"] == ClipInfo(
        str(tmp_path / "fan/test/anomaly_id_02_00000001.wav"), "fan", "02", None, "test", "anomaly"
    )
    assert clips["normal_id_00_00000000.wav"].split == "train"
    assert clips["id_04_00000000.wav"].label is None  # evaluation clips carry no label
    assert table == read_dataset(tmp_path, layout="dcase2020")


def test_dcase2021_layout(tmp_path):
    write_noise(
        tmp_path,
        "gearbox/train/section_00_source_train_normal_0000_volt_1.0.wav",
        "gearbox/source_test/section_00_source_test_anomaly_0001_volt_1.3.wav",
        "gearbox/target_test/section_01_target_test_normal_0000.wav",
        "gearbox/target_test/section_03_0000.wav",
    )
    clips = by_name(read_dataset(tmp_path))
    anomaly = clips["section_00_source_test_anomaly_0001_volt_1.3.wav"]
    assert (anomaly.machine, anomaly.section, anomaly.domain, anomaly.split, anomaly.label) == (
        "gearbox",
        "00",
        "source",
        "test",
        "anomaly",
    )
    assert clips["section_01_target_test_normal_0000.wav"].domain == "target"
    unlabelled = clips["section_03_0000.wav"]
    assert (unlabelled.section, unlabelled.domain, unlabelled.split, unlabelled.label) == (
        "03",
        "target",
        "test",
        None,
    )


def test_dcase2022_layout_parses_attributes(tmp_path):
    write_noise(
        tmp_path,
        "bearing/train/section_00_source_train_normal_0000_vel_6_loc_A.wav",
        "bearing/train/section_01_target_train_normal_0003_vel_10_loc_B.wav",
        "bearing/test/section_00_source_test_anomaly_0000_vel_6_loc_A.wav",
        "slider/train/section_00_source_train_normal_0000_noAttribute.wav",
        "slider/test/section_00_0000.wav",
    )
    table = read_dataset(tmp_path)
    clips = by_name(table)
    target = clips["section_01_target_train_normal_0003_vel_10_loc_B.wav"]
    assert (target.section, target.domain, target.split, target.label) == ("01", "target", "train", "normal")
    assert target.attributes == {"vel": "10", "loc": "B"}
    assert clips["section_00_source_train_normal_0000_noAttribute.wav"].attributes == {}
    unlabelled = clips["section_00_0000.wav"]
    assert (unlabelled.machine, unlabelled.domain, unlabelled.split, unlabelled.label) == (
        "slider",
        None,
        "test",
        None,
    )
    assert table.filter(machine="bearing", split="test").labels.tolist() == [1]


def test_dcase2022_machine_folder_as_root(tmp_path):
    write_noise(tmp_path, "fan/train/section_00_source_train_normal_0000_a_1.wav")
    table = read_dataset(tmp_path / "fan")
    assert table.machines == ["fan"] and len(table) == 1


def test_mimii_layout_with_and_without_snr_folder(tmp_path):
    write_noise(
        tmp_path,
        "-6_dB_fan/fan/id_00/normal/00000000.wav",
        "-6_dB_fan/fan/id_02/abnormal/00000001.wav",
        "0_dB/valve/id_04/normal/00000000.wav",
        "6_dB_pump/id_06/normal/00000000.wav",
    )
    table = read_dataset(tmp_path)
    assert table.machines == ["fan", "pump", "valve"]
    assert table.sections == ["00", "02", "04", "06"]
    assert all(clip.split is None and clip.domain is None for clip in table)
    fan = table.filter(machine="fan")
    assert fan.labels.tolist() == [0, 1]
    assert fan[0].attributes == {"snr_db": "-6"}
    assert table.filter(machine="valve")[0].attributes == {"snr_db": "0"}
    assert table.filter(machine="pump")[0].section == "06"


def test_mimii_without_snr(tmp_path):
    write_noise(tmp_path, "slider/id_00/normal/00000000.wav")
    (clip,) = read_dataset(tmp_path, layout="mimii")
    assert (clip.machine, clip.section, clip.label, clip.attributes) == ("slider", "00", "normal", {})


def test_missing_root_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_dataset(tmp_path / "nowhere")


def test_folder_without_audio(tmp_path):
    (tmp_path / "fan" / "train").mkdir(parents=True)
    (tmp_path / "fan" / "train" / "notes.txt").write_text("no audio here")
    with pytest.raises(FileNotFoundError, match="no audio files"):
        read_dataset(tmp_path)


def test_unrecognised_layout_lists_the_supported_ones(tmp_path):
    write_noise(tmp_path, "recordings/take1.wav")
    with pytest.raises(ValueError, match="take1.wav") as error:
        read_dataset(tmp_path)
    for layout in ("dcase2020", "dcase2021", "dcase2022", "mimii", "manifest"):
        assert layout in str(error.value)


def test_explicit_layout_that_does_not_fit(tmp_path):
    write_noise(tmp_path, "fan/train/normal_id_00_00000000.wav")
    with pytest.raises(ValueError, match="dcase2022 layout"):
        read_dataset(tmp_path, layout="dcase2022")
    with pytest.raises(ValueError, match="not one of"):
        read_dataset(tmp_path, layout="dcase2019")


# ---------------------------------------------------------------- manifests


@pytest.mark.parametrize("name", ["bldc_motor", "fan", "paper_machine"])
def test_shared_manifests(name):
    folder = SHARED_DATA / name
    if not (folder / "manifest.csv").is_file():
        pytest.skip(f"{folder}/manifest.csv is not available on this machine")
    with open(folder / "manifest.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    table = read_dataset(folder)
    assert len(table) == len(rows)
    assert table.machines == [name]
    assert table.labels.tolist() == [int(row["label"] == "anomaly") for row in rows]
    assert all(Path(path).is_file() for path in table.paths)
    first = table[0]
    assert first.split is None and first.section is None
    assert first.attributes["group"] == rows[0]["group"]
    assert first.attributes["condition"] == rows[0]["condition"]
    assert read_dataset(folder / "manifest.csv") == table


def test_minimal_manifest(tmp_path):
    write_noise(tmp_path, "audio/a.wav", "audio/b.wav", "audio/c.wav")
    (tmp_path / "clips.csv").write_text(
        "path,label,machine,section,split\n"
        "audio/a.wav,normal,valve,00,train\n"
        "audio/b.wav,abnormal,valve,01,test\n"
        "audio/c.wav,,,,\n"
    )
    table = read_dataset(tmp_path / "clips.csv")
    assert [clip.label for clip in table] == ["normal", "anomaly", None]
    assert [clip.machine for clip in table] == ["valve", "valve", tmp_path.name]
    assert [clip.split for clip in table] == ["train", "test", None]
    assert table.filter(section=1).paths == [str(tmp_path / "audio" / "b.wav")]

    (tmp_path / "paths_only.csv").write_text("path\naudio/a.wav\n")
    (clip,) = read_dataset(tmp_path / "paths_only.csv")
    assert clip.label is None and clip.attributes == {}


@pytest.mark.parametrize(
    "content, error, message",
    [
        ("path,label\nmissing.wav,normal\n", FileNotFoundError, "line 2.*missing.wav"),
        ("path,label\na.wav,broken\n", ValueError, "line 2.*'broken'"),
        ("file,label\na.wav,normal\n", ValueError, "no 'path' column"),
    ],
)
def test_manifest_errors_name_the_line(tmp_path, content, error, message):
    write_noise(tmp_path, "a.wav")
    (tmp_path / "manifest.csv").write_text(content)
    with pytest.raises(error, match=message):
        read_dataset(tmp_path)


def test_normal_and_anomaly_folders_layout(tmp_path):
    write_noise(tmp_path / "pump", "normal/n1.wav", "normal/sub/n2.wav", "abnormal/a1.wav", "anomaly/a2.wav")
    table = read_dataset(tmp_path / "pump")
    assert table.layout == "labelled_folders" and table.machines == ["pump"]
    assert {Path(c.path).name: c.label for c in table} == {
        "n1.wav": "normal",
        "n2.wav": "normal",
        "a1.wav": "anomaly",
        "a2.wav": "anomaly",
    }
    assert all(c.split is None and c.section is None for c in table)
    # machine folders that each hold normal/ and anomaly/
    write_noise(tmp_path / "plant", "fan/normal/x.wav", "valve/anomaly/y.wav")
    assert [(c.machine, c.label) for c in read_dataset(tmp_path / "plant")] == [("fan", "normal"), ("valve", "anomaly")]


def test_folder_search_skips_sidecars_and_vcs_folders(tmp_path):
    write_noise(tmp_path, "fan/train/normal_id_00_00000000.wav", "fan/.git/normal_id_00_00000001.wav")
    (tmp_path / "fan" / "train" / "._normal_id_00_00000000.wav").write_bytes(b"junk")
    assert [Path(c.path).name for c in read_dataset(tmp_path)] == ["normal_id_00_00000000.wav"]


def test_manifest_without_groups_infers_recordings_from_file_names(tmp_path):
    names = [f"on/ON_20200318T2044{r}0_{s}.wav" for r in range(3) for s in (1, 2)] + ["tap/TAP_1_1.wav"]
    write_noise(tmp_path, *names)
    labels = ["normal"] * 6 + ["anomaly"]
    (tmp_path / "manifest.csv").write_text(
        "path,label\n" + "".join(f"{n},{label}\n" for n, label in zip(names, labels))
    )
    with pytest.warns(GroupWarning, match="6 clips|7 clips"):
        table = read_dataset(tmp_path)
    groups = [c.attributes.get("group") for c in table]
    assert groups[:6] == [f"on/ON_20200318T2044{r}0" for r in range(3) for _ in (1, 2)]

    normal = table.filter(label="normal")
    train, test = split_in_time(normal.labels, [c.attributes["group"] for c in normal])
    assert {normal[i].attributes["group"] for i in train}.isdisjoint({normal[i].attributes["group"] for i in test})


def test_numbered_class_names_and_bare_numbers_are_not_recordings(tmp_path):
    names = [f"normal/normal_{i}.wav" for i in range(4)] + [f"M{i}/1850.wav" for i in range(2)]
    write_noise(tmp_path, *names)
    (tmp_path / "manifest.csv").write_text("path,label\n" + "".join(f"{n},normal\n" for n in names))
    with pytest.warns(GroupWarning, match="each clip is taken as its own recording"):
        table = read_dataset(tmp_path)
    assert all("group" not in c.attributes for c in table)


@pytest.mark.parametrize("columns", ["path,label,group\na.wav,normal,r1\n", "path,label,split\na.wav,normal,train\n"])
def test_a_manifest_with_groups_or_splits_does_not_warn(tmp_path, columns):
    write_noise(tmp_path, "a.wav")
    (tmp_path / "manifest.csv").write_text(columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GroupWarning)
        assert len(read_dataset(tmp_path)) == 1


# ---------------------------------------------------------------- the table


def test_clip_table_behaves_like_a_list():
    clips = [
        ClipInfo(f"/d/{machine}/{split}/{i}.wav", machine, f"0{i % 2}", "source", split, label)
        for i, (machine, split, label) in enumerate(
            [
                ("fan", "train", "normal"),
                ("fan", "test", "anomaly"),
                ("pump", "test", "normal"),
                ("pump", "test", None),
            ]
        )
    ]
    table = ClipTable(clips)
    assert len(table) == 4 and list(table) == clips and table[1] is clips[1]
    assert isinstance(table[1:3], ClipTable) and len(table[1:3]) == 2
    assert table.filter(label=None).paths == ["/d/pump/test/3.wav"]
    assert len(table.filter(machine=["fan", "pump"], split="test")) == 3
    assert table.filter(split="test", label=["normal", "anomaly"]).labels.tolist() == [1, 0]
    with pytest.raises(ValueError, match="clip 3 .*/d/pump/test/3.wav.* no label"):
        _ = table.labels
    with pytest.raises(TypeError, match="unknown field"):
        table.filter(speed="fast")


def test_to_csv_round_trips_through_read_dataset(tmp_path):
    table = make_machine_sounds(
        tmp_path / "data",
        machines=("fan",),
        n_sections=1,
        n_train=3,
        n_test_normal=1,
        n_test_anomaly=2,
        duration=0.1,
    )
    written = table.to_csv(tmp_path / "lists" / "clips.csv")
    assert read_dataset(written) == table


# ---------------------------------------------------------------- DCASE result files


def read_rows(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_write_dcase_results(tmp_path):
    names = ["/data/fan/test/section_03_0000.wav", Path("/data/fan/test/section_03_0001.wav")]
    scores_path, decisions_path = write_dcase_results(
        tmp_path / "out", "fan", 3, names, np.array([0.125, 2.0]), decisions=[False, True]
    )
    assert scores_path.name == "anomaly_score_fan_section_03_test.csv"
    assert decisions_path.name == "decision_result_fan_section_03_test.csv"
    assert read_rows(scores_path) == [["section_03_0000.wav", "0.125"], ["section_03_0001.wav", "2.0"]]
    assert read_rows(decisions_path) == [["section_03_0000.wav", "0"], ["section_03_0001.wav", "1"]]


def test_write_dcase_results_without_decisions(tmp_path):
    written = write_dcase_results(tmp_path, "ToyCar", "01", ["a.wav"], [1 / 3])
    assert [path.name for path in written] == ["anomaly_score_ToyCar_section_01_test.csv"]
    assert float(read_rows(written[0])[0][1]) == 1 / 3


def test_write_dcase_results_without_section_names_files_relative_to_the_root(tmp_path):
    root = tmp_path / "motor"
    written = write_dcase_results(
        tmp_path / "out", "motor", None, [root / "M1" / "1850.wav", root / "M2" / "1850.wav"], [1.0, 2.0], root=root
    )
    assert [p.name for p in written] == ["anomaly_score_motor_test.csv"]
    assert read_rows(written[0]) == [["M1/1850.wav", "1.0"], ["M2/1850.wav", "2.0"]]


def test_write_dcase_results_checks_lengths(tmp_path):
    with pytest.raises(ValueError, match="2 scores for 1 files"):
        write_dcase_results(tmp_path, "fan", 0, ["a.wav"], [1.0, 2.0])
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        write_dcase_results(tmp_path, "fan", 0, ["a.wav"], [1.0], decisions=[2])


# ---------------------------------------------------------------- synthetic machine sounds

SMALL = dict(machines=("fan", "pump"), n_sections=2, n_train=4, n_test_normal=3, n_test_anomaly=5, duration=0.25)


def read_audio(table: ClipTable) -> np.ndarray:
    return np.stack([sf.read(path)[0] for path in table.paths])


def test_generator_writes_a_readable_dcase2022_folder(tmp_path):
    table = make_machine_sounds(tmp_path, **SMALL, target_fraction=0.25)
    assert len(table) == 2 * 2 * (4 + 3 + 5)
    assert read_dataset(tmp_path) == read_dataset(tmp_path, layout="dcase2022") == table
    info = sf.info(table[0].path)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 4000, "PCM_16")
    section = table.filter(machine="pump", section=1)
    assert len(section.filter(split="train")) == 4 and section.filter(split="test").labels.sum() == 5
    assert len(section.filter(split="train", domain="target")) == 1
    (source_speed,) = {clip.attributes["speed"] for clip in section.filter(domain="source")}
    (target_speed,) = {clip.attributes["speed"] for clip in section.filter(domain="target")}
    assert source_speed != target_speed


def test_generator_is_deterministic(tmp_path):
    first = read_audio(make_machine_sounds(tmp_path / "a", **SMALL, random_state=7))
    again = read_audio(make_machine_sounds(tmp_path / "b", **SMALL, random_state=7))
    other = read_audio(make_machine_sounds(tmp_path / "c", **SMALL, random_state=8))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_a_section_sounds_the_same_whatever_else_is_generated(tmp_path):
    both = make_machine_sounds(tmp_path / "a", **SMALL)
    only = make_machine_sounds(tmp_path / "b", **{**SMALL, "machines": ("pump",), "n_sections": 1})
    np.testing.assert_array_equal(read_audio(both.filter(machine="pump", section=0)), read_audio(only))


def test_anomaly_kinds_are_used_in_turn(tmp_path):
    table = make_machine_sounds(tmp_path, **SMALL)
    anomalies = table.filter(machine="fan", section=0, label="anomaly")
    assert sorted(clip.attributes["fault"] for clip in anomalies) == sorted(DEFAULT_ANOMALY_KINDS)
    assert all("fault" not in clip.attributes for clip in table.filter(label="normal"))
    only_tone = make_machine_sounds(tmp_path / "tone", **SMALL, anomaly_kinds=("tone",))
    assert {clip.attributes["fault"] for clip in only_tone.filter(label="anomaly")} == {"tone"}
    with pytest.raises(ValueError, match="unknown anomaly kinds"):
        make_machine_sounds(tmp_path / "bad", **SMALL, anomaly_kinds=("squeak",))


def test_each_anomaly_kind_changes_only_the_anomalous_clips(tmp_path):
    every_kind = {**SMALL, "n_test_anomaly": len(ANOMALY_KINDS), "anomaly_kinds": ANOMALY_KINDS}
    quiet = make_machine_sounds(tmp_path / "quiet", **every_kind, anomaly_strength=0.0)
    loud = make_machine_sounds(tmp_path / "loud", **every_kind, anomaly_strength=2.0)
    np.testing.assert_array_equal(read_audio(quiet.filter(label="normal")), read_audio(loud.filter(label="normal")))
    for kind in ANOMALY_KINDS:

        def of_kind(table, kind=kind):
            return ClipTable(clip for clip in table if clip.attributes.get("fault") == kind)

        difference = read_audio(of_kind(loud)) - read_audio(of_kind(quiet))
        assert np.sqrt(np.mean(difference**2)) > 1e-3, kind


def test_strength_zero_makes_anomalies_as_loud_as_normal_clips(tmp_path):
    table = make_machine_sounds(tmp_path, **{**SMALL, "n_test_normal": 10, "n_test_anomaly": 10}, anomaly_strength=0.0)
    for machine in table.machines:
        for section in table.sections:
            test = table.filter(machine=machine, section=section, split="test")
            level_db = 10 * np.log10(np.mean(read_audio(test) ** 2, axis=1))
            normal, anomaly = level_db[test.labels == 0], level_db[test.labels == 1]
            assert abs(normal.mean() - anomaly.mean()) < 1.5


def test_generator_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="anomaly_strength"):
        make_machine_sounds(tmp_path, **SMALL, anomaly_strength=-1)
    with pytest.raises(ValueError, match="target_fraction"):
        make_machine_sounds(tmp_path, **SMALL, target_fraction=1.5)


def mean_log_mel(audio: np.ndarray, sr: int) -> np.ndarray:
    """Time-averaged 64-band log-mel: the simplest training-free clip vector."""
    return time_pool(log_mel(audio, sr, n_fft=1024, hop_length=512, n_mels=64), "mean")


def test_default_set_is_not_trivially_separable(tmp_path):
    table = make_machine_sounds(tmp_path)
    assert len(table) == 2 * 2 * (30 + 10 + 10)
    aucs = []
    for machine in table.machines:
        for section in table.sections:
            clips = table.filter(machine=machine, section=section)
            train, test = clips.filter(split="train"), clips.filter(split="test")
            train_features = mean_log_mel(read_audio(train), 16000)
            test_features = mean_log_mel(read_audio(test), 16000)
            distances = np.linalg.norm(test_features[:, None] - train_features[None], axis=-1)
            aucs.append(roc_auc_score(test.labels, distances.min(axis=1)))
    # a simple detector should find the anomalies, but not all of them
    assert 0.7 <= np.mean(aucs) <= 0.95, aucs


def test_speed_spread_varies_each_clips_speed_and_leaves_the_default_alone(tmp_path):
    steady = make_machine_sounds(tmp_path / "steady", **SMALL)
    again = make_machine_sounds(tmp_path / "again", **SMALL, speed_spread=0.0)
    np.testing.assert_array_equal(read_audio(steady), read_audio(again))
    spread = make_machine_sounds(tmp_path / "spread", **{**SMALL, "duration": 1.0, "n_train": 12}, speed_spread=0.15)
    train = spread.filter(machine="fan", section=0, split="train", domain="source")
    spectra = np.abs(np.fft.rfft(read_audio(train), axis=1))
    # the strongest harmonic's frequency moves with each clip's speed
    peaks = np.argmax(spectra, axis=1)
    assert peaks.max() / peaks.min() > 1.08
    with pytest.raises(ValueError, match="speed_spread"):
        make_machine_sounds(tmp_path / "bad", **SMALL, speed_spread=0.3)


def test_resonance_changes_the_average_spectrum_in_one_band(tmp_path):
    kinds = {**SMALL, "duration": 1.0, "anomaly_kinds": ("resonance",)}
    quiet = make_machine_sounds(tmp_path / "quiet", **kinds, anomaly_strength=0.0).filter(label="anomaly")
    loud = make_machine_sounds(tmp_path / "loud", **kinds, anomaly_strength=1.0).filter(label="anomaly")
    gain_db = 20 * np.log10(
        (np.abs(np.fft.rfft(read_audio(loud), axis=1)) + 1e-9) / (np.abs(np.fft.rfft(read_audio(quiet), axis=1)) + 1e-9)
    )
    # a 6 dB peak somewhere, and most of the spectrum untouched
    assert np.all(gain_db.max(axis=1) > 4.0)
    assert np.all(np.median(gain_db, axis=1) < 1.0)


def session_spectra(table: ClipTable, session: str) -> np.ndarray:
    """Mean log-mel of each training clip of one session."""
    chosen = ClipTable(c for c in table if c.split == "train" and c.attributes["session"] == session)
    return mean_log_mel(read_audio(chosen), SR)


def test_sessions_leave_the_default_alone_and_record_every_clip_in_each(tmp_path):
    once = make_machine_sounds(tmp_path / "once", **SMALL)
    again = make_machine_sounds(tmp_path / "again", **SMALL, sessions=1, session_drift=0.5)
    np.testing.assert_array_equal(read_audio(once), read_audio(again))
    assert all("session" not in clip.attributes for clip in once)

    twice = make_machine_sounds(tmp_path / "twice", **SMALL, sessions=2)
    assert len(twice) == 2 * len(once)
    assert read_dataset(tmp_path / "twice") == twice
    for session in ("1", "2"):
        clips = ClipTable(c for c in twice if c.attributes["session"] == session)
        assert len(clips.filter(split="train")) == 2 * 2 * 4 and clips.filter(split="test").labels.sum() == 2 * 2 * 5
    with pytest.raises(ValueError, match="sessions"):
        make_machine_sounds(tmp_path / "bad", **SMALL, sessions=0)
    with pytest.raises(ValueError, match="session_drift"):
        make_machine_sounds(tmp_path / "bad", **SMALL, sessions=2, session_drift=3.0)


def test_a_later_session_drifts_from_the_first(tmp_path):
    """Session 2's average spectrum lies further from session 1's than session 1's clips from each other."""
    kwargs = dict(machines=("fan",), n_sections=1, n_train=12, n_test_normal=1, n_test_anomaly=1, duration=1.0)
    drifted = make_machine_sounds(tmp_path / "drifted", **kwargs, sessions=2)
    steady = make_machine_sounds(tmp_path / "steady", **kwargs, sessions=2, session_drift=0.0)
    for table, drifts in ((drifted, True), (steady, False)):
        first, second = session_spectra(table, "1"), session_spectra(table, "2")
        between = np.linalg.norm(first.mean(axis=0) - second.mean(axis=0))
        within = np.mean(np.linalg.norm(first - first.mean(axis=0), axis=1))
        assert (between > within) == drifts, (between, within)
