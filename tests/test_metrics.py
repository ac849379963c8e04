import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from audioad.metrics import (
    arithmetic_mean,
    auc,
    format_table,
    harmonic_mean,
    official_score,
    pauc,
    section_table,
)


def random_case(seed):
    rng = np.random.default_rng(seed)
    n_clips = int(rng.integers(4, 200))
    labels = rng.integers(0, 2, n_clips)
    labels[:2] = [0, 1]
    scores = rng.normal(size=n_clips) + labels * rng.uniform(0, 2)
    if seed % 2:
        scores = np.round(scores, 1)  # ties, between and within classes
    return labels, scores


@pytest.mark.parametrize("seed", range(40))
def test_auc_and_pauc_agree_with_sklearn(seed):
    labels, scores = random_case(seed)
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    for max_fpr in (0.05, 0.1, 0.3, 1.0):
        expected = roc_auc_score(labels, scores, max_fpr=max_fpr)
        assert pauc(labels, scores, max_fpr=max_fpr) == pytest.approx(expected, abs=1e-12)


def test_all_tied_scores_give_chance():
    assert auc([0, 1, 0, 1], [3.0] * 4) == 0.5
    assert pauc([0, 1, 0, 1], [3.0] * 4) == pytest.approx(0.5)


def test_labels_may_be_bool_or_words():
    labels, scores = random_case(3)
    words = np.where(labels == 1, "anomaly", "normal")
    assert auc(labels.astype(bool), scores) == auc(labels, scores)
    assert auc(list(words), scores) == auc(labels, scores)
    assert pauc(words, scores) == pauc(labels, scores)


def test_unknown_labels_are_named():
    with pytest.raises(ValueError, match="labels must be 0/1, bool, or 'normal'/'anomaly'; got 'abnormal'"):
        auc(["normal", "abnormal"], [0.1, 0.2])
    with pytest.raises(ValueError, match="got 2"):
        auc([0, 2], [0.1, 0.2])


@pytest.mark.parametrize("metric", [auc, pauc])
def test_one_class_is_refused(metric):
    with pytest.raises(ValueError, match="AUC needs both normal and anomalous clips; got only 3 normal clips"):
        metric([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="got only 2 anomalous clips"):
        metric(["anomaly", "anomaly"], [0.1, 0.2])


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError, match="y_true has 3 labels but y_score has 2 scores"):
        auc([0, 1, 0], [0.1, 0.2])


def test_nan_scores_are_counted_and_located():
    with pytest.raises(ValueError, match=r"2 of 4 y_score are not finite \(NaN or inf\), at clips \[0, 2\]"):
        auc([0, 1, 0, 1], [np.nan, 0.2, np.nan, 0.4])


@pytest.mark.parametrize("max_fpr", [0.0, -0.1, 1.5])
def test_max_fpr_out_of_range_is_refused(max_fpr):
    with pytest.raises(ValueError, match=r"max_fpr must be in \(0, 1\]"):
        pauc([0, 1], [0.1, 0.2], max_fpr=max_fpr)


# A section small enough to check by hand. Normal clips: source 0.1, 0.2; target 0.6, 0.7.
# Anomalous clips: source 0.5, target 0.8.
#   AUC (all): 0.5 beats 2 of 4 normals, 0.8 beats 4 of 4           -> 6/8 = 0.75
#   AUC-source: normals {0.1, 0.2} vs all anomalies {0.5, 0.8}      -> 4/4 = 1.0
#   AUC-target: normals {0.6, 0.7} vs {0.5, 0.8}: only 0.8 wins     -> 2/4 = 0.5
# The pump section separates perfectly: every AUC and the pAUC are 1.
FAN = {
    "machine": ["fan"] * 6,
    "section": ["00"] * 6,
    "domain": ["source", "source", "target", "target", "source", "target"],
    "label": ["normal"] * 4 + ["anomaly"] * 2,
    "score": [0.1, 0.2, 0.6, 0.7, 0.5, 0.8],
}
PUMP = {
    "machine": ["pump"] * 4,
    "section": ["01"] * 4,
    "domain": ["target", "source", "target", "source"],
    "label": [0, 0, 1, 1],
    "score": [0.0, 0.1, 0.9, 1.0],
}
RESULTS = {key: PUMP[key] + FAN[key] for key in FAN}  # out of order on purpose: rows come sorted


def as_rows(columns):
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def test_section_table_by_hand():
    fan, pump = section_table(RESULTS)
    fan_pauc = roc_auc_score([0, 0, 0, 0, 1, 1], FAN["score"], max_fpr=0.1)
    assert fan == {
        "machine": "fan",
        "section": "00",
        "AUC": 0.75,
        "AUC-source": 1.0,
        "AUC-target": 0.5,
        "pAUC": pytest.approx(fan_pauc),
        "n_normal": 4,
        "n_anomaly": 2,
    }
    assert (pump["machine"], pump["section"]) == ("pump", "01")
    assert [pump[key] for key in ("AUC", "AUC-source", "AUC-target", "pAUC")] == pytest.approx([1.0] * 4)
    assert (pump["n_normal"], pump["n_anomaly"]) == (2, 2)


def test_section_table_takes_a_list_of_dicts():
    assert section_table(as_rows(RESULTS)) == section_table(RESULTS)


def test_domain_auc_is_domain_normals_against_all_anomalies():
    rng = np.random.default_rng(7)
    n_clips = 120
    labels, scores = rng.integers(0, 2, n_clips), rng.normal(size=n_clips)
    domains = rng.choice(["source", "target"], n_clips)
    results = {
        "machine": ["valve"] * n_clips,
        "section": [0] * n_clips,
        "domain": domains,
        "label": labels,
        "score": scores,
    }
    (row,) = section_table(results)
    for name in ("source", "target"):
        kept = (domains == name) | (labels == 1)
        assert row[f"AUC-{name}"] == pytest.approx(roc_auc_score(labels[kept], scores[kept]))
    assert row["pAUC"] == pytest.approx(roc_auc_score(labels, scores, max_fpr=0.1))


def test_section_table_without_domains_has_only_auc_and_pauc():
    results = {key: FAN[key] for key in ("machine", "section", "label", "score")}
    (row,) = section_table(results)
    assert row["AUC"] == 0.75
    assert row["AUC-source"] is None and row["AUC-target"] is None


def test_section_table_errors_name_the_section():
    one_class = dict(FAN, label=[0] * 6)
    with pytest.raises(ValueError, match="machine 'fan' section '00': AUC needs both normal and anomalous clips"):
        section_table(one_class)
    no_target_normals = dict(FAN, domain=["source"] * 4 + ["target"] * 2)
    with pytest.raises(ValueError, match="machine 'fan' section '00' domain 'target': AUC needs both"):
        section_table(no_target_normals)
    with pytest.raises(ValueError, match="2 clips have no domain while others do"):
        section_table(dict(FAN, domain=["source", None, "target", None, "source", "target"]))
    with pytest.raises(ValueError, match="domain must be 'source', 'target' or None; got 'src'"):
        section_table(dict(FAN, domain=["src"] * 6))
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['score'\]"):
        section_table({key: FAN[key] for key in ("machine", "section", "label")})
    with pytest.raises(ValueError, match="differ in length"):
        section_table(dict(FAN, score=FAN["score"][:-1]))
    with pytest.raises(ValueError, match="results are empty"):
        section_table([])


def test_harmonic_mean_is_scipy_hmean():
    values = np.random.default_rng(0).uniform(0.3, 1.0, 12)
    assert harmonic_mean(values) == pytest.approx(stats.hmean(values))
    assert harmonic_mean([0.5, 1.0]) == pytest.approx(2 / 3)


def test_harmonic_mean_floors_zeros_at_epsilon_like_the_evaluators():
    assert 0 < harmonic_mean([0.0, 1.0, 1.0]) < 1e-15


@pytest.mark.parametrize("mean", [harmonic_mean, arithmetic_mean])
@pytest.mark.parametrize("values", [[], [0.5, np.nan], [0.5, -0.1]])
def test_means_refuse_empty_nan_and_negative(mean, values):
    with pytest.raises(ValueError, match="mean"):
        mean(values)


def test_arithmetic_mean():
    assert arithmetic_mean([0.9, 0.6, 0.6]) == pytest.approx(0.7)


def no_domains(columns):
    return {key: value for key, value in columns.items() if key != "domain"}


def test_official_score_2020_is_arithmetic_mean_of_machine_averages():
    # fan has two sections (AUC 1 and 0.75), pump one with reversed scores (AUC 0).
    results = {
        "machine": ["fan"] * 8 + ["pump"] * 4,
        "section": ["00"] * 4 + ["01"] * 4 + ["00"] * 4,
        "label": [0, 0, 1, 1] * 3,
        "score": [0.1, 0.2, 0.3, 0.4] + [0.1, 0.4, 0.3, 0.5] + [0.5, 0.6, 0.1, 0.2],
    }
    fan01_pauc = roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.3, 0.5], max_fpr=0.1)
    pump_pauc = roc_auc_score([0, 0, 1, 1], [0.5, 0.6, 0.1, 0.2], max_fpr=0.1)
    fan = (np.mean([1.0, 0.75]) + np.mean([1.0, fan01_pauc])) / 2
    pump = (0.0 + pump_pauc) / 2
    assert official_score(results, 2020) == pytest.approx((fan + pump) / 2)
    assert official_score(results, 2020, by_machine=True) == {"fan": pytest.approx(fan), "pump": pytest.approx(pump)}


def test_official_score_2021_is_within_domain():
    # Within its own domain every fan anomaly outscores every normal: all AUCs and pAUCs are 1,
    # although the source anomaly (0.5) is below the target normals.
    assert official_score(RESULTS, 2021) == pytest.approx(1.0)
    moved = dict(FAN, score=[0.1, 0.2, 0.6, 0.7, 0.5, 0.65])  # target anomaly between target normals
    target_pauc = roc_auc_score([0, 0, 1], [0.6, 0.7, 0.65], max_fpr=0.1)
    expected = stats.hmean([1.0, 1.0, 0.5, target_pauc])
    assert official_score(moved, 2021) == pytest.approx(expected)


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025])
def test_official_score_2022_on_is_hmean_of_domain_aucs_and_pauc(year):
    fan_pauc = roc_auc_score([0, 0, 0, 0, 1, 1], FAN["score"], max_fpr=0.1)
    expected = stats.hmean([1.0, 0.5, fan_pauc, 1.0, 1.0, 1.0])
    assert official_score(RESULTS, year) == pytest.approx(expected)
    assert official_score(as_rows(RESULTS), year) == pytest.approx(expected)
    assert official_score(RESULTS, year, by_machine=True) == {
        "fan": pytest.approx(stats.hmean([1.0, 0.5, fan_pauc])),
        "pump": pytest.approx(1.0),
    }


@pytest.mark.parametrize("year", [2021, 2022, 2025])
def test_official_scores_with_domains_need_domains(year):
    with pytest.raises(ValueError, match="domain"):
        official_score(no_domains(RESULTS), year)


def test_official_score_refuses_other_years():
    with pytest.raises(ValueError, match="year must be a DCASE task 2 year from 2020 to 2025; got 2019"):
        official_score(RESULTS, 2019)


def test_format_table_aligns_three_decimals():
    text = format_table(section_table(RESULTS))
    lines = text.splitlines()
    assert lines[0].split() == [
        "machine",
        "section",
        "AUC",
        "AUC-source",
        "AUC-target",
        "pAUC",
        "n_normal",
        "n_anomaly",
    ]
    assert lines[1].split()[:5] == ["fan", "00", "0.750", "1.000", "0.500"]
    assert lines[2].split() == ["pump", "01", "1.000", "1.000", "1.000", "1.000", "2", "2"]
    assert len({len(line) for line in lines}) == 1
    header_end = lines[0].index("AUC-source") + len("AUC-source")
    assert lines[1][header_end - 5 : header_end] == "1.000"  # numbers are right-aligned under their header


def test_format_table_drops_domain_columns_without_domains():
    text = format_table(section_table(no_domains(RESULTS)))
    assert "AUC-source" not in text and "AUC-target" not in text
    mixed = section_table(RESULTS)
    mixed[0]["AUC-target"] = None
    assert format_table(mixed).splitlines()[1].split()[4] == "-"
