"""Figures of audioad.plotting: their axes, lines, shading and files."""

import numpy as np
import pytest
import soundfile as sf
from matplotlib.figure import Figure

from audioad import FrameScores
from audioad.features import log_mel
from audioad.metrics import auc, pauc
from audioad.plotting import plot_clip, plot_frame_scores, plot_roc, plot_score_histogram, save_figure

SR = 16000
HOP = 512


def hum(seed, seconds=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.5 * np.sin(2 * np.pi * 120 * t) + 0.2 * np.sin(2 * np.pi * 360 * t) + 0.02 * rng.standard_normal(t.size)
    return y.astype(np.float32)


def axes_by_label(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def x_range(patch):
    """Data x-extent of a patch drawn by axvspan (a Rectangle or, in older matplotlib, a Polygon)."""
    xs = patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 0]
    return xs.min(), xs.max()


def spans(ax):
    return sorted(x_range(p) for p in ax.patches if p.get_gid() == "above-threshold")


def threshold_lines(ax):
    return [line for line in ax.get_lines() if line.get_label().startswith("threshold")]


def assert_png(path, min_bytes=10_000):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > min_bytes


@pytest.fixture
def clip_and_scores():
    y = hum(0)
    times = np.arange(28) * HOP / SR
    scores = np.ones(28)
    scores[10:14] = 5.0  # windows starting 0.32 s to 0.42 s
    scores[20] = 3.0
    return y, FrameScores(times, scores)


def test_frame_scores_figure_has_spectrogram_scores_and_colorbar(clip_and_scores):
    y, frames = clip_and_scores
    fig = plot_frame_scores(y, SR, frames, threshold=2.0, hop_length=HOP, n_mels=32)
    assert isinstance(fig, Figure)
    axes = axes_by_label(fig)
    assert list(axes) == ["spectrogram", "scores", "<colorbar>"]
    spec_ax, scores_ax = axes["spectrogram"], axes["scores"]
    assert scores_ax.get_shared_x_axes().joined(spec_ax, scores_ax)
    (image,) = spec_ax.get_images()
    assert image.get_array().shape == log_mel(y, SR, hop_length=HOP, n_mels=32).shape == (32, 32)
    # Frame i is centred at i * hop / sr, as log_mel centres its frames.
    left, right, bottom, top = image.get_extent()
    assert left == pytest.approx(-HOP / SR / 2)
    assert right == pytest.approx((32 - 0.5) * HOP / SR)
    assert (bottom, top) == (-0.5, 31.5)
    assert spec_ax.get_xlim() == scores_ax.get_xlim() == pytest.approx((0.0, 1.0))
    assert "Hz" in spec_ax.get_ylabel() and "(s)" in scores_ax.get_xlabel()
    assert axes["<colorbar>"].get_ylabel() == "Level (dB)"
    tick_labels = [t.get_text() for t in spec_ax.get_yticklabels()]
    assert "1k" in tick_labels and len(set(tick_labels)) == len(tick_labels)


def test_frame_scores_threshold_line_and_shading(clip_and_scores):
    y, (times, scores) = clip_and_scores
    window_seconds = 4 * HOP / SR
    fig = plot_frame_scores(y, SR, (times, scores), threshold=2.0, hop_length=HOP, window_seconds=window_seconds)
    axes = axes_by_label(fig)
    scores_ax = axes["scores"]
    score_line = next(line for line in scores_ax.get_lines() if line.get_label() == "window score")
    np.testing.assert_allclose(score_line.get_xdata(), times + window_seconds / 2)
    np.testing.assert_allclose(score_line.get_ydata(), scores)
    (threshold,) = threshold_lines(scores_ax)
    assert threshold.get_ydata()[0] == 2.0
    assert threshold.get_linestyle() == "--" and threshold.get_color() == "tab:red"
    step = HOP / SR
    centres = times + window_seconds / 2
    expected = [(centres[10] - step / 2, centres[13] + step / 2), (centres[20] - step / 2, centres[20] + step / 2)]
    np.testing.assert_allclose(spans(scores_ax), expected)
    np.testing.assert_allclose(spans(axes["spectrogram"]), expected)
    # Every shaded window scores above the threshold, every other below it.
    inside = np.zeros(len(times), bool)
    for start, stop in expected:
        inside |= (centres > start) & (centres < stop)
    assert np.array_equal(inside, scores > 2.0)
    assert any(c.get_gid() == "excess" for c in scores_ax.collections)
    # Issue 24, 11: the red bar over the spectrogram is named in the legend.
    assert "above threshold (red bar over the spectrogram)" in [
        t.get_text() for t in scores_ax.get_legend().get_texts()
    ]


def test_frame_scores_keeps_a_far_threshold_and_the_clip_score_in_view(clip_and_scores):
    y, frames = clip_and_scores
    fig = plot_frame_scores(y, SR, frames, threshold=40.0, clip_score=1.6)
    scores_ax = axes_by_label(fig)["scores"]
    low, high = scores_ax.get_ylim()
    assert low < 1.0 and high > 40.0
    assert spans(scores_ax) == []
    texts = [t.get_text() for t in scores_ax.get_legend().get_texts()]
    assert "clip score 1.6 \u2192 normal" in texts


def test_frame_scores_without_threshold_draws_no_line_or_shading(clip_and_scores):
    y, frames = clip_and_scores
    fig = plot_frame_scores(y, SR, frames, title="fan 00")
    scores_ax = axes_by_label(fig)["scores"]
    assert threshold_lines(scores_ax) == [] and spans(scores_ax) == []
    assert fig.get_suptitle() == "fan 00"


def test_frame_scores_refuses_times_and_scores_of_different_lengths(clip_and_scores):
    y, (times, scores) = clip_and_scores
    with pytest.raises(ValueError, match="28 times but 27 scores"):
        plot_frame_scores(y, SR, (times, scores[:-1]))


def test_frame_scores_draws_into_a_given_subfigure(clip_and_scores):
    y, frames = clip_and_scores
    root = Figure()
    left, _ = root.subfigures(1, 2)
    assert plot_frame_scores(y, SR, frames, threshold=2.0, fig=left) is root
    assert len(left.axes) == 3


def test_roc_has_auc_and_pauc_in_its_legend_and_the_pauc_region_shaded():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(50), np.ones(50)]
    scores = rng.normal(size=100) + labels
    fig = plot_roc(labels, scores, max_fpr=0.2, label="AE")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == f"AE: AUC {auc(labels, scores):.3f}, pAUC {pauc(labels, scores, max_fpr=0.2):.3f}"
    assert "pAUC region (FPR \u2264 0.2)" in texts and "chance" in texts
    (region,) = [p for p in ax.patches if p.get_gid() == "pauc-region"]
    assert x_range(region) == pytest.approx((0.0, 0.2))
    (chance,) = [line for line in ax.get_lines() if line.get_gid() == "chance"]
    np.testing.assert_array_equal(chance.get_xydata(), [[0, 0], [1, 1]])
    curve = ax.get_lines()[-1]
    assert curve.get_xdata()[0] == 0.0 and curve.get_ydata()[-1] == 1.0
    assert "False positive rate" in ax.get_xlabel() and "True positive rate" in ax.get_ylabel()

    # A second detector on the same axes: one more curve, no second region or diagonal.
    plot_roc(labels, -scores, ax=ax, label="flipped")
    assert len(ax.get_lines()) == 3
    assert len([p for p in ax.patches if p.get_gid() == "pauc-region"]) == 1
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[1].startswith("flipped: AUC") and texts[-1] == "chance"


def test_roc_takes_word_labels_and_refuses_one_class():
    fig = plot_roc(["normal", "normal", "anomaly"], [0.1, 0.2, 0.9])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "AUC 1.000, pAUC 1.000"
    with pytest.raises(ValueError, match="both normal and anomalous"):
        plot_roc([0, 0], [0.1, 0.2])


def test_histogram_overlays_normal_and_anomalous_with_the_threshold():
    scores = np.r_[np.linspace(0, 1, 30), np.linspace(2, 3, 10)]
    labels = np.r_[np.zeros(30), np.ones(10)]
    fig = plot_score_histogram(scores, labels, threshold=1.5, bins=12)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "normal (30 clips)",
        "anomalous (10 clips)",
        "threshold 1.5:\n0% of normal flagged (false alarms)\n100% of anomalous flagged (detected)",
    ]
    bars = ax.patches
    assert len(bars) == 24  # both classes on the same 12 bins
    assert sum(b.get_height() for b in bars[:12]) == 30 and sum(b.get_height() for b in bars[12:]) == 10
    assert all(b.get_alpha() < 1 for b in bars)
    (line,) = threshold_lines(ax)
    assert line.get_xdata()[0] == 1.5
    fig = plot_score_histogram(scores, labels, threshold=0.5, bins=12)
    assert "50% of normal flagged (false alarms)" in threshold_lines(fig.axes[0])[0].get_label()
    assert "score" in ax.get_xlabel().lower() and ax.get_ylabel() == "Number of clips"


def test_histogram_without_labels_draws_one_histogram():
    fig = plot_score_histogram(np.arange(10.0))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["clips (10 clips)"]
    assert threshold_lines(ax) == []
    with pytest.raises(ValueError, match="one label per clip"):
        plot_score_histogram(np.arange(10.0), [0, 1])


def test_save_figure_writes_a_png_and_makes_its_folder(tmp_path, clip_and_scores):
    y, frames = clip_and_scores
    out = save_figure(plot_frame_scores(y, SR, frames, threshold=2.0), tmp_path / "new" / "clip.png", dpi=80)
    assert out == tmp_path / "new" / "clip.png"
    assert_png(out)


def test_plot_clip_with_a_window_detector(tmp_path):
    pytest.importorskip("torch")
    from audioad.detectors.autoencoder import AudioAE
    from audioad.window_threshold import calibrate_window_threshold

    clips = [hum(seed, seconds=0.5) for seed in range(6)]
    detector = AudioAE(sr=SR, n_fft=1024, n_mels=32, epoch_num=1, batch_size=64, random_state=0).fit(clips)
    clip = hum(99, seconds=0.5)
    fig = plot_clip(detector, clip, path=tmp_path / "ae.png")
    assert_png(tmp_path / "ae.png")
    axes = axes_by_label(fig)
    assert [a for a in axes if not a.startswith("<")] == ["spectrogram", "reference", "deviation", "findings", "scores"]
    (image,) = axes["spectrogram"].get_images()
    assert image.get_array().shape == (32, 1 + len(clip) // HOP)
    # No window threshold calibrated: the clip threshold is not drawn against window scores.
    assert threshold_lines(axes["scores"]) == [] and not [
        ln for ln in axes["scores"].get_lines() if "threshold" in ln.get_label()
    ]
    # Scores sit at their windows' centres: the first over the middle of frames 0..context-1.
    (frames,) = detector.frame_scores([clip])
    score_line = next(line for line in axes["scores"].get_lines() if line.get_label() == "window score")
    np.testing.assert_allclose(score_line.get_xdata(), frames.times + (detector.context - 1) * HOP / SR / 2)
    np.testing.assert_allclose(score_line.get_ydata(), frames.scores, rtol=1e-6)
    (note,) = [t for t in axes["scores"].texts if t.get_gid() == "clip-score"]
    assert f"clip score {detector.decision_function([clip])[0]:.3g}" in note.get_text()
    assert f"clip threshold {detector.threshold_:.3g}" in note.get_text()

    threshold = calibrate_window_threshold(detector, [hum(seed, seconds=0.5) for seed in range(50, 54)])
    axes = axes_by_label(plot_clip(detector, clip))
    (line,) = [ln for ln in axes["scores"].get_lines() if ln.get_label().startswith("window threshold")]
    assert line.get_ydata()[0] == pytest.approx(threshold)
    assert "1% of normal windows above" in line.get_label()


def test_plots_of_one_model_share_fixed_level_and_deviation_scales():
    from audioad import MelKNN

    detector = MelKNN(sr=SR, n_mels=32).fit([hum(seed, seconds=0.5) for seed in range(6)])
    quiet, loud = hum(98, seconds=0.5), 4 * hum(99, seconds=0.5)
    limits = []
    for clip in (quiet, loud):
        axes = axes_by_label(plot_clip(detector, clip))
        (spec,) = axes["spectrogram"].get_images()
        (deviation,) = axes["deviation"].get_images()
        limits.append((spec.get_clim(), deviation.get_clim()))
        assert axes["reference"].get_xlim() == pytest.approx(spec.get_clim())
    assert limits[0] == limits[1]
    assert limits[0][1] == (-30.0, 30.0)
    low, high = limits[0][0]
    assert high - low == 80.0 and high > np.max(detector.band_levels_["levels"])


def test_plot_clip_with_a_whole_clip_detector(tmp_path):
    from audioad.detectors.embedding import EmbeddingOD

    clips = [hum(seed, seconds=0.5) for seed in range(8)]
    detector = EmbeddingOD.for_audio("balanced", sr=SR).fit(clips)
    path = tmp_path / "clip.wav"
    sf.write(path, hum(99, seconds=0.5), SR)
    fig = plot_clip(detector, path, path=tmp_path / "embedding.png")
    assert_png(tmp_path / "embedding.png")
    assert list(axes_by_label(fig)) == ["spectrogram", "<colorbar>"]
    ax = axes_by_label(fig)["spectrogram"]
    (image,) = ax.get_images()
    # No log-mel of its own: drawn with the detectors' default front end, 128 bands (issue 23: a guessed 64).
    assert image.get_array().shape == (128, 1 + SR // 2 // HOP)
    (note,) = [t for t in ax.texts if t.get_gid() == "clip-score"]
    score = detector.decision_function([path])[0]
    assert f"clip score {score:.3g}" in note.get_text()
    assert f"threshold {detector.threshold_:.3g}" in note.get_text()
    assert fig.get_suptitle() == "EmbeddingOD: clip.wav"


def test_plot_clip_places_window_scores_by_the_detectors_front_end():
    """Issue 23: plot_clip guessed front-end settings (hop 512, n_mels 64) where a detector had no such attribute."""
    from audioad import default_detector

    clips = [hum(seed, seconds=0.5) for seed in range(12)]
    # An ensemble's members and frame detector hop 256 samples: its window scores sit at their windows'
    # centres by that hop, not by a guessed 512.
    ensemble = default_detector(sr=SR, n_mels=32, hop_length=256).fit(clips)
    clip = hum(99, seconds=0.5)
    axes = axes_by_label(plot_clip(ensemble, clip))
    (frames,) = ensemble.frame_scores([clip])
    score_line = next(line for line in axes["scores"].get_lines() if line.get_label() == "window score")
    context = ensemble.frame_detector.context
    np.testing.assert_allclose(score_line.get_xdata(), frames.times + (context - 1) * 256 / SR / 2)
