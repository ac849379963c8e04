"""audioad report: one self-contained HTML page, checked as a browser renders it (headless Chromium)."""

import base64
import csv
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import audioad

from audioad import MelKNN
from audioad.datasets import make_machine_sounds, read_dataset
from audioad.report import build_report, render_report, summarise, write_report

CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: scripts/test installs Debian's chromium package where it can (root, apt-get)"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A model file and a labelled test folder, and the report `audioad report` wrote for them."""
    root = tmp_path_factory.mktemp("machine")
    make_machine_sounds(root, machines=("fan",), n_sections=1, n_train=12, n_test_normal=5, n_test_anomaly=5,
                        duration=1.0, target_fraction=0.2, anomaly_strength=2.0)  # fmt: skip
    model = root / "fan.audioad"
    assert audioad("fit", root / "fan" / "train", "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    out = root / "report.html"
    result = audioad("report", model, root / "fan" / "test", "--out", out, "--top", "2", "-q")
    assert result.returncode == 0, result.stderr
    return root, model, out


class _Page(HTMLParser):
    """The parts of a page the tests look at: elements with their attributes and text, by id and class."""

    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "inside": {e["attrs"].get("id") for e in self.stack}}
        self.elements.append(element)
        if tag not in ("img", "meta", "br", "input", "link"):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def find(self, tag=None, **attrs):
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag) and all(e["attrs"].get(k) == v for k, v in attrs.items())
        ]


def _chromium(*args, url):
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-logging=stderr",
         "--v=0", "--no-first-run", "--hide-scrollbars", *args, url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _rendered(path, fragment=""):
    """The DOM Chromium renders for the page (its script run), parsed; and the browser console's lines."""
    result = _chromium("--dump-dom", url=Path(path).resolve().as_uri() + fragment)
    assert result.returncode == 0, result.stderr[-2000:]
    page = _Page()
    page.feed(result.stdout)
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return page, console


def _clip_rows(page):
    """The cells of each row of the clip table, in the order the page shows them."""
    cells = [e for e in page.elements if e["tag"] == "td" and "clips" in e["inside"]]
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


@needs_chromium
def test_the_page_renders_with_no_console_errors_and_its_summary(run):
    root, _, out = run
    page, console = _rendered(out)
    assert console == [], console
    (body,) = page.find("body")
    assert body["attrs"].get("data-ready") == "1"  # the page's script ran to its end
    assert page.find("pre", id="js-errors")[0]["text"] == ""
    cards = {e["attrs"]["data-name"]: e["text"] for e in page.find("div") if "data-name" in e["attrs"]}
    assert cards["clips"].startswith("10")
    table = read_dataset(root / "fan" / "test")
    assert table.labels.sum() == 5
    for name in ("flagged", "false-alarm rate", "detection rate", "AUC", "pAUC"):
        assert name in cards
    # Per section and condition: source and target of section 00.
    groups = page.find("table", id="groups")[0]["text"]
    assert "source" in groups and "target" in groups


@needs_chromium
def test_a_click_sorts_the_table_and_the_address_keeps_the_sort(run):
    _, _, out = run
    # The sort the address names is applied on load by clicking the column's header.
    page, console = _rendered(out, "#sort=score:asc")
    assert console == []
    scores = [float(row[3]["attrs"]["data-value"]) for row in _clip_rows(page) if row[3]["attrs"].get("data-value")]
    assert len(scores) == 10 and scores == sorted(scores)
    heads = {e["attrs"]["data-key"]: e["attrs"].get("aria-sort") for e in page.find("th") if "data-key" in e["attrs"]}
    assert heads["score"] == "ascending"
    page, _ = _rendered(out, "#sort=path:desc")
    names = [row[0]["attrs"]["data-value"] for row in _clip_rows(page)]
    assert names == sorted(names, reverse=True)


@needs_chromium
def test_the_most_anomalous_clips_have_picture_explanation_and_sound(run, tmp_path):
    _, _, out = run
    page, _ = _rendered(out)
    sections = [e for e in page.find("div") if e["attrs"].get("class") == "clip"]
    assert len(sections) == 2
    audio = page.find("audio")
    assert len(audio) == 2 and all(a["attrs"]["src"].startswith("data:audio/wav;base64,UklGR") for a in audio)
    wav = base64.b64decode(audio[0]["attrs"]["src"].split(",", 1)[1])
    assert wav[:4] == b"RIFF" and len(wav) > 16000  # one second at 16 kHz, 16 bits
    images = [i["attrs"]["src"] for i in page.find("img")]
    assert len(images) == 4 and all(src.startswith("data:image/png;base64,iVBOR") for src in images)  # ROC, histogram
    # Nothing is fetched from elsewhere: no address outside the page.
    text = out.read_text()
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text)
    shot = tmp_path / "report.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1280,1600", url=out.resolve().as_uri())
    assert result.returncode == 0 and shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 50_000


def test_summary_rates_per_section_and_condition():
    rows = [
        {"score": 0.1, "flagged": 0, "truth": "normal", "section": "00", "condition": "source"},
        {"score": 0.9, "flagged": 1, "truth": "normal", "section": "00", "condition": "target"},
        {"score": 0.8, "flagged": 1, "truth": "anomaly", "section": "00", "condition": "source"},
        {"score": None, "flagged": 0, "truth": "anomaly", "section": "00", "condition": "source"},
    ]
    summary = summarise(rows, threshold=0.5)
    overall = summary["overall"]
    assert (overall["clips"], overall["scored"], overall["flagged"]) == (4, 3, 2)
    assert overall["false_alarm_rate"] == 0.5 and overall["detection_rate"] == 1.0
    assert summary["groups"][("00", "source")]["false_alarm_rate"] == 0.0
    assert "AUC" not in summary["groups"][("00", "target")]


def test_report_without_labels_and_a_clip_that_fails(tmp_path):
    clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(8)]
    detector = MelKNN(n_mels=32).fit(clips[:6])
    page = build_report(detector, [clips[6], clips[7], str(tmp_path / "gone.wav")], top=1)
    assert "false-alarm rate" not in page and "ROC curve" not in page and "Score histogram" in page
    assert re.search(r"clip 2 \(.*gone.wav\): ", page)
    out = write_report(page, tmp_path / "r.html")
    assert out.read_text(encoding="utf-8") == page
    assert render_report([], title="<b>").count("&lt;b&gt;") == 2


def test_report_refuses_to_write_over_an_input(run):
    root, model, _ = run
    result = audioad("report", model, root / "fan" / "test", "--out", model)
    assert result.returncode == 2 and "fan.audioad" in result.stderr


def test_evaluate_names_the_detector_and_gives_rates_per_condition(run):
    root, _, _ = run
    result = audioad("evaluate", root, "--detector", "mel-knn", "--set", "n_mels=64", "-q")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "detector: mel-knn: MelKNN(n_mels=64)"
    assert re.match(r"  fan section 00: fitted on 12 normal clips in .*fan/train; threshold \d", lines[1])
    header = next(i for i, line in enumerate(lines) if "false_alarm_rate" in line)
    conditions = [line.split() for line in lines[header + 1 :]]
    assert [row[2] for row in conditions] == ["source", "target", "all"]
    normal, anomalous = int(conditions[2][3]), int(conditions[2][4])
    assert (normal, anomalous) == (5, 5)
    # The rates are the shares of the decisions evaluate wrote (one model, one threshold).
    for value in conditions[2][7:9]:
        assert 0.0 <= float(value) <= 1.0 and round(float(value) * 5) == float(value) * 5


@needs_chromium
def test_evaluate_writes_a_report_of_the_evaluation(run):
    root, _, _ = run
    out = root / "evaluation.html"
    result = audioad("evaluate", root, "--detector", "mel-knn", "--report", out, "-q")
    assert result.returncode == 0, result.stderr
    page, console = _rendered(out)
    assert console == [] and page.find("body")[0]["attrs"].get("data-ready") == "1"
    cards = {e["attrs"]["data-name"]: e["text"] for e in page.find("div") if "data-name" in e["attrs"]}
    assert cards["clips"] == "10clips"
    groups = [e["text"] for e in page.find("td") if "groups" in e["inside"]]
    assert groups[:2] == ["fan section 00", "source"] and groups[8:10] == ["fan section 00", "target"]
    assert len([e for e in page.find("div") if e["attrs"].get("class") == "clip"]) == 2
    about = page.find("table")[0]["text"]
    assert "mel-knn: MelKNN()" in about and "AUC (mean) (DCASE)" in about and "12 normal clips" in about


@needs_chromium
def test_report_of_a_score_csv(run):
    root, model, _ = run
    scores = root / "scores.csv"
    result = audioad("score", model, root / "fan" / "test", "--explain", "--out", scores, "-q")
    assert result.returncode == 0, result.stderr
    out = root / "from-csv.html"
    result = audioad("report", model, scores, "--out", out, "--top", "1", "-q")
    assert result.returncode == 0, result.stderr
    page, console = _rendered(out, "#sort=score:desc")
    assert console == []
    rows = _clip_rows(page)
    written = sorted((float(r["score"]) for r in csv.DictReader(open(scores))), reverse=True)
    assert [float(row[3]["attrs"]["data-value"]) for row in rows] == written
    assert all(row[6]["text"] for row in rows)  # the CSV's explanation column
    assert [row[5]["text"] for row in rows].count("anomaly") == 5  # labels from the data set's file names
    assert len([e for e in page.find("div") if e["attrs"].get("class") == "clip"]) == 1


def test_a_long_file_is_shown_by_an_excerpt_around_its_finding(tmp_path):
    import soundfile as sf

    from audioad.audio import is_long_file
    from audioad.report import clip_details

    rng = np.random.default_rng(0)
    detector = MelKNN(n_mels=64).fit([0.05 * rng.standard_normal(32000).astype(np.float32) for _ in range(6)])
    y = 0.05 * rng.standard_normal(9 * 60 * 16000).astype(np.float32)
    t = np.arange(2 * 16000) / 16000
    y[300 * 16000 : 302 * 16000] += 0.2 * np.sin(2 * np.pi * 3000 * t)  # a tone at 5:00-5:02
    path = tmp_path / "nine-minutes.flac"
    sf.write(path, y, 16000)
    assert is_long_file(str(path))
    details = clip_details(detector, str(path))
    assert re.match(r"\+\d+ dB at 2\.9-3\.1 kHz, 299\.\d+-302\.\d+ s", details["summary"]), details["summary"]
    start, end = details["excerpt"]
    assert start < 300 < 302 < end and end - start == pytest.approx(10.0)
    wav = details["wav"]
    assert wav[:4] == b"RIFF" and 300_000 < len(wav) < 330_000  # 10 s at 16 kHz, 16 bits


def test_the_summary_is_in_the_page_as_json(run):
    import json

    _, _, out = run
    text = out.read_text()
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text).group(1))
    assert data["clips"] == 10 and data["normal"] == 5 and data["anomalous"] == 5
    assert 0.0 <= data["false_alarm_rate"] <= 1.0 and 0.0 <= data["AUC"] <= 1.0
