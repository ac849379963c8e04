"""Tests for audioad.evaluation's split of data without one: by recording, in time, without duplicates."""

import numpy as np
import pytest
import soundfile as sf

from audioad.datasets import ClipInfo, ClipTable
from audioad.evaluation import clip_fingerprint, evaluate, recording_order, split_in_time, split_table_in_time

SR = 8000


def recordings(n_recordings=7, clips_each=3, n_anomalous=4, shuffled=True):
    """Labels and groups of clips cut from numbered recordings (rec_1 ... rec_N), listed out of order."""
    labels, groups = [], []
    order = np.random.default_rng(0).permutation(n_recordings) if shuffled else range(n_recordings)
    for r in order:
        labels += [0] * clips_each
        groups += [f"rec_{r + 1}"] * clips_each
    labels += [1] * n_anomalous
    groups += [f"fault_{k}" for k in range(n_anomalous)]
    return labels, groups


@pytest.mark.parametrize("train_on", ["earlier", "later"])
def test_no_recording_is_on_both_sides_and_the_training_block_precedes_or_follows_the_test(train_on):
    labels, groups = recordings()
    train, test = split_in_time(labels, groups, train_on=train_on)
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in test})
    assert all(labels[i] == 0 for i in train) and all(i in test for i, y in enumerate(labels) if y == 1)
    trained = [recording_order(groups[i]) for i in train]
    tested = [recording_order(groups[i]) for i in test if labels[i] == 0]
    if train_on == "earlier":
        assert max(trained) < min(tested)  # rec_1..rec_3 train, rec_4..rec_7 test
        assert {groups[i] for i in train} == {"rec_1", "rec_2", "rec_3"}
    else:
        assert min(trained) > max(tested)
        assert {groups[i] for i in train} == {"rec_4", "rec_5", "rec_6", "rec_7"}
    assert sorted(train + test) == list(range(len(labels)))


def test_recording_order_compares_numbers_as_numbers():
    names = ["ON_20210210T012001", "ON_20200318T204907", "normal_10", "normal_2", "ON_20200318T204454"]
    assert sorted(names, key=recording_order) == [
        "ON_20200318T204454",
        "ON_20200318T204907",
        "ON_20210210T012001",
        "normal_2",
        "normal_10",
    ]


def test_each_stratum_is_split_in_time_on_its_own():
    groups = [f"M{m}_{rpm}" for m in (1, 2) for rpm in (1400, 1500, 1600, 1700)]
    labels = [0] * len(groups)
    strata = [g.split("_")[0] for g in groups]
    train, test = split_in_time(labels, groups, strata)
    assert [groups[i] for i in train] == ["M1_1400", "M1_1500", "M2_1400", "M2_1500"]
    assert [groups[i] for i in test] == ["M1_1600", "M1_1700", "M2_1600", "M2_1700"]


def test_unlabelled_clips_are_on_neither_side_and_a_bad_direction_is_refused():
    train, test = split_in_time(["normal", "normal", None, "anomaly"], ["a1", "a2", "a3", "f"])
    assert (train, test) == ([0], [1, 3])
    with pytest.raises(ValueError, match="train_on"):
        split_in_time([0, 0], ["a", "b"], train_on="random")


def test_clip_fingerprint_is_equal_only_for_equal_samples():
    clip = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert clip_fingerprint(clip) == clip_fingerprint(clip.astype(np.float64))
    assert clip_fingerprint(clip) != clip_fingerprint(clip + 1e-3)


def write_clips(folder, levels, labels, groups=None):
    clips = []
    for i, (level, label) in enumerate(zip(levels, labels)):
        path = folder / f"clip_{i}.wav"
        sf.write(path, level * np.sin(np.arange(SR // 4) * (0.1 + 0.01 * i)), SR)
        attributes = {"group": groups[i]} if groups else {}
        clips.append(ClipInfo(str(path), "fan", label=label, attributes=attributes))
    return ClipTable(clips)


def test_test_clips_identical_to_a_training_clip_are_dropped_and_the_split_says_so(tmp_path):
    table = write_clips(tmp_path, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], ["normal"] * 4 + ["anomaly"] * 2)
    # clip_2 (tested) is a copy of clip_0 (trained on), in another file
    (tmp_path / "clip_2.wav").write_bytes((tmp_path / "clip_0.wav").read_bytes())
    train, test, said = split_table_in_time(table)
    assert [c.path for c in train] == [table[0].path, table[1].path]
    assert [c.path for c in test] == [table[3].path, table[4].path, table[5].path]
    assert said.startswith("split in time: trained on the earlier 2 of 4 normal recordings")
    assert said.endswith("1 test clip identical to a training clip dropped")


def test_evaluate_splits_data_without_a_split_in_time_and_reports_it(tmp_path):
    from audioad.detectors.knn import MelKNN

    groups = [f"rec_{r}" for r in (3, 1, 2, 4)] + ["fault_1", "fault_2"]
    table = write_clips(tmp_path, [0.1, 0.1, 0.1, 0.1, 0.9, 0.9], ["normal"] * 4 + ["anomaly"] * 2, groups)
    result = evaluate(table, lambda: MelKNN(n_neighbors=1))
    ((key, said),) = result.splits.items()
    assert key[0] == "fan"
    assert "split in time" in said and "trained on the earlier 2 of 4 normal recordings" in said
    trained = set(next(iter(result.training.values())))
    assert trained == {table[1].path, table[2].path}  # rec_1 and rec_2
    assert {r["path"] for r in result.results} == {table[i].path for i in (0, 3, 4, 5)}
    later = evaluate(table, lambda: MelKNN(n_neighbors=1), train_on="later")
    assert set(next(iter(later.training.values()))) == {table[0].path, table[3].path}
