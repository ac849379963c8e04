"""The development sets' splits (benchmarks/devsets.py): by recording and by time, both ways, no duplicates."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import devsets  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "bldc_motor").is_dir(), reason="../shared/data not found")
@pytest.mark.parametrize("name", ["bldc_motor", "fan", "paper_machine"])
def test_real_sets_are_split_by_recording_in_time_both_ways(name, tmp_path):
    plan, description = devsets.prepare(name, (0,), tmp_path, SHARED_DATA)
    _, labels, groups = devsets.load_real(SHARED_DATA / name, name)
    assert [entry["direction"] for entry in plan.values()] == ["earlier→later", "later→earlier"]
    assert "identical to a training clip, dropped" in description
    trained = {}
    for direction, entry in plan.items():
        (section,) = entry["sections"]
        train_groups = {groups[i] for i in section["train"]}
        test_groups = {groups[i] for i in section["test"]}
        assert train_groups.isdisjoint(test_groups)
        assert all(labels[i] == 0 for i in section["train"])
        assert sum(section["y"]) == sum(labels)  # every anomalous clip is tested
        trained[direction] = train_groups
    # the two directions swap the blocks
    normal = {g for g, label in zip(groups, labels) if label == 0}
    assert trained["earlier→later"] | trained["later→earlier"] == normal
    assert trained["earlier→later"].isdisjoint(trained["later→earlier"])


@pytest.mark.skipif(not (SHARED_DATA / "fan").is_dir(), reason="../shared/data not found")
def test_fan_drift_trains_on_2020_and_tests_on_2021(tmp_path):
    plan, _ = devsets.prepare("fan-drift", (0,), tmp_path, SHARED_DATA)
    _, labels, groups = devsets.load_real(SHARED_DATA / "fan", "fan-drift")
    ((direction, entry),) = plan.items()
    (section,) = entry["sections"]
    assert direction == "2020→2021"
    assert all("2020" in groups[i] and labels[i] == 0 for i in section["train"])
    assert all("2021" in groups[i] for i, y in zip(section["test"], section["y"]) if y == 0)


def test_synthetic_sets_train_on_one_session_and_test_on_the_other(tmp_path):
    spec = devsets.DEV_SETS["synthetic"]
    small = devsets.DevSet("small", "", generator={**spec.generator, "n_train": 4, "duration": 0.25})
    plan, description = devsets._prepare_synthetic(small, (0,), tmp_path)
    assert [entry["direction"] for entry in plan.values()] == ["earlier→later", "later→earlier"]
    assert "dropped: 0 (earlier→later), 0 (later→earlier)" in description
    clips = devsets.load_clips(tmp_path, plan["0:earlier→later"]["clips"], 16000)
    forward, backward = plan["0:earlier→later"]["sections"][0], plan["0:later→earlier"]["sections"][0]
    # session 1's training clips train one way and are never tested the other way round
    assert forward["train"] != backward["train"] and not set(forward["train"]) & set(backward["test"])
    assert len(forward["y"]) == 20 and sum(forward["y"]) == 10
    assert np.isfinite(clips[forward["train"][0]][0]).all()
