"""The dashboard in a real browser (headless Chromium under Selenium), its JSON and its Prometheus metrics."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from monitor_servers import chromium
from test_watch import SR, faulty, hum

from audioad import MelKNN, load, save
from audioad.monitor.backends import open_store
from audioad.monitor.dashboard import make_server, serving
from audioad.monitor.recorder import SourceHistory
from audioad.watch import AlertRule, Watcher

ASSETS = Path(__file__).resolve().parent.parent / "src" / "audioad" / "monitor" / "dashboard_assets"


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    """A store with two machines, each with an hour of normal rows, a model file and recordings on disk."""
    root = tmp_path_factory.mktemp("plant")
    model = root / "hum.audioad"
    save(MelKNN().fit([np.concatenate([hum(10, seed) for seed in range(4)])], segment="2s"), model)
    for name in ("normal", "faulty"):
        sf.write(root / f"{name}.wav", (faulty if name == "faulty" else hum)(6, seed=9), SR)
    return root, model


def machine(store, model, name):
    """A Watcher writing machine ``name``'s rows into ``store``, as `audioad watch --db` makes it."""
    detector = load(model)
    history = SourceHistory(store, name, "ab" * 32, model_path=str(model), threshold=detector.threshold_,
                            alert_threshold=100.0, rule="2/3", segment=2.0, hop=2.0)  # fmt: skip
    state = history.state()
    alert = AlertRule("2/3", 0, state.flags, state.active)
    return Watcher(detector, None, state, 2.0, 2.0, detector.threshold_, 100.0, alert, echo=lambda line: None,
                   history=history)  # fmt: skip


def get(url, data=None, content_type="application/json"):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait(browser, what, timeout=10):
    """What ``what(browser)`` returns once true; an element redrawn while it was read is read again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(browser, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])
    return waiting.until(lambda b: what(b))


def card(browser, name):
    return browser.find_element("css selector", f'section.source[data-name="{name}"]')


def state(browser, name):
    return wait(browser, lambda b: card(b, name).get_attribute("data-state"))


def click(browser, selector):
    """Click the first element ``selector`` finds, as a user does (found again if the page redrew it)."""
    return wait(browser, lambda b: b.find_element("css selector", selector).click() or True)


def test_a_machine_turns_to_alarm_live_and_its_alert_is_heard_seen_and_acknowledged(plant, tmp_path):
    root, model = plant
    db = tmp_path / "plant.sqlite"
    writer = open_store(db)
    press, pump = machine(writer, model, "press3"), machine(writer, model, "pump1")
    press.score_file(root / "normal.wav")
    pump.score_file(root / "normal.wav")
    server = make_server(open_store(db), port=0, allow_ack=True)
    with chromium() as browser, serving(server):
        url = f"http://127.0.0.1:{server.server_port}/"
        browser.get(url)
        wait(browser, lambda b: b.find_element("tag name", "body").get_attribute("data-ready") == "1")
        assert (state(browser, "press3"), state(browser, "pump1")) == ("normal", "normal")
        assert browser.find_elements("css selector", "#alerts tbody tr") == []
        # The recorder writes a faulty file: the machine turns to alarm on the page within 2 s of the rows' commit.
        press.score_file(root / "faulty.wav")
        committed = time.monotonic()
        wait(browser, lambda b: card(b, "press3").get_attribute("data-state") == "alarm", timeout=2)
        assert time.monotonic() - committed < 2
        assert state(browser, "pump1") == "normal"
        chart = "svg.chart polyline, svg.chart circle"
        assert wait(browser, lambda b: card(b, "press3").find_element("css selector", chart))
        # The alert opens: its explanation, its spectrogram beside normal, and its sound, which plays.
        row = wait(browser, lambda b: b.find_element("css selector", "#alerts tbody tr").text)
        assert "press3" in row and "faulty.wav" in row and "active" in row
        click(browser, "#alerts tbody tr")
        wait(browser, lambda b: "departs from normal" in b.find_element("id", "detail-summary").text)
        assert "kHz" in browser.find_element("id", "detail-summary").text
        assert browser.find_elements("css selector", "#findings tbody tr")
        picture = browser.find_element("id", "detail-spectrogram")
        wait(
            browser,
            lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", picture),
            30,
        )
        played = browser.execute_async_script(
            """const audio = document.getElementById('detail-audio'), done = arguments[arguments.length - 1];
            audio.play().then(() => setTimeout(() => done([audio.paused, audio.currentTime, audio.duration]), 500),
                              (error) => done(String(error)));"""
        )
        assert played[0] is False and played[1] > 0 and played[2] == pytest.approx(2.0, abs=0.01), played
        # Acknowledged with a note: stored, and shown.
        browser.find_element("id", "ack-by").send_keys("ann")
        browser.find_element("id", "ack-note").send_keys("belt slipping, replaced")
        browser.find_element("id", "ack-button").click()
        wait(browser, lambda b: "Acknowledged by ann" in b.find_element("id", "detail").text)
        wait(browser, lambda b: "ann: belt slipping, replaced" in b.find_element("css selector", "#alerts tbody").text)
        (alert,) = writer.alerts()
        assert (alert["acknowledged_by"], alert["note"]) == ("ann", "belt slipping, replaced")
        assert browser.find_element("id", "ack-form").get_attribute("hidden") is not None
        # The recording deleted: the page says its sound is gone.
        (root / "faulty.wav").rename(tmp_path / "moved.wav")
        try:
            browser.find_element("id", "detail-close").click()
            click(browser, "#alerts tbody tr")
            wait(browser, lambda b: "the recording is gone" in b.find_element("id", "detail-gone").text)
        finally:
            (tmp_path / "moved.wav").rename(root / "faulty.wav")
        # The day and week charts draw the same rows.
        browser.find_element("css selector", '#ranges button[data-range="week"]').click()
        wait(browser, lambda b: "last week" in card(b, "press3").text)
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    writer.close()
    server.dashboard.store.close()


def test_read_only_by_default_nothing_deletable_and_metrics_for_prometheus(plant, tmp_path):
    root, model = plant
    db = tmp_path / "plant.sqlite"
    with open_store(db) as writer:
        press = machine(writer, model, "press3")
        press.score_file(root / "faulty.wav")
        server = make_server(open_store(db), port=0)
        with serving(server):
            base = f"http://127.0.0.1:{server.server_port}"
            state = json.loads(get(f"{base}/api/state?range=day")[1])
            assert state["allow_ack"] is False and state["sources"][0]["state"] == "alarm"
            alert_id = state["alerts"][0]["id"]
            status, answer = get(f"{base}/api/alerts/{alert_id}/ack", b'{"by": "eve", "note": ""}')
            assert status == 403 and b"allow_ack" in answer
            assert writer.alert(alert_id)["acknowledged_at"] is None
            request = urllib.request.Request(f"{base}/api/alerts/{alert_id}", method="DELETE")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 501
            assert get(f"{base}/api/state?range=year")[0] == 400 and get(f"{base}/api/alerts/99")[0] == 404
            status, audio = get(f"{base}/api/alerts/{alert_id}/audio.wav")
            assert status == 200 and sf.info(__import__("io").BytesIO(audio)).duration == pytest.approx(2.0)
            status, metrics = get(f"{base}/metrics")
            lines = metrics.decode().splitlines()
            assert status == 200
            for expected in ('audioad_alert_active{model="abababababab",source="press3"} 1.0',
                             'audioad_segments_scored_total{model="abababababab",source="press3"} 3.0',
                             'audioad_threshold{kind="alert",model="abababababab",source="press3"} 100.0',
                             'audioad_state{model="abababababab",source="press3",state="alarm"} 1.0'):  # fmt: skip
                assert expected in lines
            assert any(line.startswith('audioad_last_score{model="abababababab",source="press3"} 5') for line in lines)
            assert any(line.startswith("audioad_seconds_behind{") for line in lines)
        server.dashboard.store.close()


def test_every_asset_is_served_by_audioad():
    """No CDN: every src and href of the page and its script is a path of this server."""
    import re

    for name in ("index.html", "app.js", "style.css"):
        text = (ASSETS / name).read_text()
        assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", text), name
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
        assert "@import" not in text and "url(" not in text
