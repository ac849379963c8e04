"""Load on the monitor: 8 machines writing into one SQLite history at 10 segments a second in all, the dashboard open.

One command::

    python benchmarks/monitor_load.py                 # 30 s of load; RESULTS.md and docs/dashboard.png
    python benchmarks/monitor_load.py --seconds 10 --no-write

Everything runs on 127.0.0.1 and stops by itself. The history first gets an hour of rows a
machine (one every 10 s, one machine with a fault and its alert 40 minutes ago), so the charts
have a past. Then 8 writers, one thread and one connection each (as 8 ``audioad watch`` would
have), each commit a segment's row, with the watch state, through
:class:`audioad.monitor.recorder.SourceHistory` every 0.8 s, spread evenly; one machine turns
faulty half way through and raises an alert. ``audioad dashboard`` runs in its own process,
and headless Chromium (Selenium) keeps its page open.

- rows a second: live rows committed over the live seconds; every row must be in the store once.
- page latency: for each row the page showed, from the row's ``scored_at`` (just before its
  commit) to the moment the page drew it (``window.audioadShown``, the same clock); goal under 1 s.
- memory: the dashboard process's resident memory after the first third of the run and at its
  end; goal: no growth beyond noise.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import REPO, run_lines, write_results

from audioad.monitor.backends import open_store
from audioad.monitor.recorder import SourceHistory
from audioad.monitor.store import AlertChange, Segment
from audioad.watch import AlertEvent, AlertRule

MACHINES = ("press1", "press2", "press3", "pump1", "pump2", "fan1", "fan2", "compressor")
FAULTY = "press3"
THRESHOLD, ALERT_THRESHOLD = 12.0, 14.0


def launch_chromium(width=1280, height=1000):
    """Headless Chromium under Selenium (Debian's chromium and chromium-driver); RuntimeError says what is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise RuntimeError("no selenium: pip install -e '.[test]'") from exc
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    driver = shutil.which("chromedriver") or (
        "/usr/lib/chromium/chromedriver" if os.path.exists("/usr/lib/chromium/chromedriver") else None
    )
    if browser is None or driver is None:
        raise RuntimeError(
            "no Chromium or its driver: scripts/test installs Debian's chromium and chromium-driver "
            "where it can (root, apt-get)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                     "--autoplay-policy=no-user-gesture-required", f"--window-size={width},{height}", "--no-first-run",
                     "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    # The driver is given: Selenium never looks one up on the network.
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _score(rng, machine, faulty):
    base = {"pump2": 10.5}.get(machine, 9.0)
    return float(base + rng.gamma(2.0, 0.6) + (8.0 if faulty else 0.0))


def backfill(db, hour_start):
    """An hour of rows a machine, one every 10 s; press3 faulty from 45 to 40 minutes ago."""
    rng = np.random.default_rng(0)
    with open_store(db) as store:
        for machine in MACHINES:
            source = store.source_id(machine, "ab" * 32, f"/models/{machine}.audioad", THRESHOLD, ALERT_THRESHOLD,
                                     "3/5", 2.0, 2.0)  # fmt: skip
            rule, rows, changes = AlertRule("3/5", 1), [], []
            for k in range(360):
                at = hour_start + 10 * k
                faulty = machine == FAULTY and 900 <= 10 * k < 1200
                score = _score(rng, machine, faulty)
                change = rule.update(score > ALERT_THRESHOLD)
                rows.append(Segment(f"/recordings/{machine}/earlier.wav", 2.0 * k, 2.0 * k + 2, score,
                                    int(score > THRESHOLD), int(rule.active), at, ""))  # fmt: skip
                if change:
                    changes.append(AlertChange(change, rows[-1].file, 2.0 * k, 2.0 * k + 2, score, at))
            store.record(source, rows, changes, None)


def _writer(db, machine, period, offset, until, fault_from, written, failures):
    """One machine's watch: a row every ``period`` s, committed with its state, until ``until`` (monotonic)."""
    rng = np.random.default_rng(MACHINES.index(machine) + 1)
    try:
        with open_store(db) as store:
            history = SourceHistory(store, machine, "ab" * 32)
            state = history.state()
            rule = AlertRule("3/5", 1, state.flags, state.active)
            k = 0
            next_at = time.monotonic() + offset
            while next_at < until:
                time.sleep(max(0.0, next_at - time.monotonic()))
                score = _score(rng, machine, machine == FAULTY and time.monotonic() >= fault_from)
                change = rule.update(score > ALERT_THRESHOLD)
                scored_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
                file = f"/recordings/{machine}/live.wav"
                history.write((file, repr(2.0 * k), repr(2.0 * k + 2), repr(score), int(score > THRESHOLD),
                               int(rule.active), scored_at, ""))  # fmt: skip
                if change:
                    history.alert(AlertEvent(change, file, 2.0 * k, 2.0 * k + 2, score))
                state.flags, state.active, state.rows = list(rule.flags), rule.active, state.rows + 1
                state.save()
                written[machine] = written.get(machine, 0) + 1
                k += 1
                next_at += period
    except Exception as exc:  # a failed writer is a result to report, not a hung run
        failures.append(f"{machine}: {exc}")


def run(browser, folder, seconds=30.0, rate=10.0, screenshot=None):
    """Run the load (see the module's description) with ``browser`` on the page; a dict of what was measured."""
    folder = Path(folder)
    db = folder / "plant.sqlite"
    backfill(db, time.time() - 3600)
    with open_store(db) as store:
        before = {s["name"]: s["segments"] for s in store.sources()}
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    server = subprocess.Popen([sys.executable, "-m", "audioad", "dashboard", str(db), "--port", "0"], env=env,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = server.stderr.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if port is None:
            raise RuntimeError(f"audioad dashboard did not start: {line}{server.stderr.read()[-500:]}")
        browser.get(f"http://127.0.0.1:{port.group(1)}/")
        deadline = time.monotonic() + 30
        while browser.execute_script("return document.body.dataset.ready") != "1":
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard page did not draw within 30 s")
            time.sleep(0.05)
        start = time.monotonic()
        until = start + seconds
        period = len(MACHINES) / rate
        written, failures, memory = {}, [], []
        fault_from = start + seconds / 2
        writers = [
            threading.Thread(
                target=_writer, args=(db, m, period, i * period / len(MACHINES), until, fault_from, written, failures)
            )
            for i, m in enumerate(MACHINES)
        ]
        for writer in writers:
            writer.start()
        while time.monotonic() < until:
            memory.append((time.monotonic() - start, _rss_mb(server.pid)))
            time.sleep(0.5)
        for writer in writers:
            writer.join()
        time.sleep(1.0)  # the page's last poll
        live = time.monotonic() - start
        shown = browser.execute_script("return window.audioadShown")
        cards = {
            c.get_attribute("data-name"): (c.get_attribute("data-state"), int(c.get_attribute("data-segments")))
            for c in browser.find_elements("css selector", "section.source")
        }
        if screenshot is not None:
            browser.save_screenshot(str(screenshot))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            server.stderr.close()
    with open_store(db) as store:
        after = {s["name"]: s["segments"] for s in store.sources()}
        keys = [(r["source"], r["file"], r["start"]) for r in store.segments()]
    latencies = sorted(max(0.0, seen - scored) for scored, seen in shown)
    third = [mb for t, mb in memory if t >= seconds / 3]
    return {
        "seconds": live,
        "written": sum(written.values()),
        "rows_per_second": sum(written.values()) / seconds,
        "in_store_once": len(keys) == len(set(keys))
        and all(after[m] - before[m] == written.get(m, 0) for m in MACHINES),
        "page_counts_match": all(cards[m][1] == after[m] for m in MACHINES),
        "states": {m: cards[m][0] for m in MACHINES},
        "updates_seen": len(latencies),
        "latency_median": statistics.median(latencies) if latencies else float("nan"),
        "latency_p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "latency_max": latencies[-1] if latencies else float("nan"),
        "rss_start_mb": third[0] if third else float("nan"),
        "rss_end_mb": third[-1] if third else float("nan"),
        "failures": failures,
        "server_exit": server.returncode,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of live load (default 30)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md and docs/ alone")
    args = parser.parse_args(argv)
    command = "python benchmarks/monitor_load.py" + (f" --seconds {args.seconds:g}" if args.seconds != 30 else "")
    load, started = os.getloadavg(), time.perf_counter()
    screenshot = None if args.no_write else REPO / "docs" / "dashboard.png"
    if screenshot is not None:
        screenshot.parent.mkdir(exist_ok=True)
    browser = launch_chromium(1280, 800)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(browser, tmp, args.seconds, screenshot=screenshot)
    finally:
        browser.quit()
    lines = [
        f"- rows: {result['written']} in {args.seconds:g} s from {len(MACHINES)} writers = "
        f"**{result['rows_per_second']:.1f} rows/s**; every row in the store once: {result['in_store_once']}; "
        f"the page's counts match the store: {result['page_counts_match']}; writer failures: {len(result['failures'])}",
        f"- page latency (row's scored_at to the page drawing it, {result['updates_seen']} updates): "
        f"median **{result['latency_median'] * 1000:.0f} ms**, p95 **{result['latency_p95'] * 1000:.0f} ms**, "
        f"max {result['latency_max'] * 1000:.0f} ms (goal: under 1 s)",
        f"- dashboard process memory: {result['rss_start_mb']:.1f} MB after the first third, "
        f"{result['rss_end_mb']:.1f} MB at the end",
        f"- {FAULTY} turned faulty half way: page state {result['states'][FAULTY]}",
    ]
    print("\n".join(lines))
    if not args.no_write:
        section = "\n".join(
            ["## Monitor load: 8 machines into one SQLite history, the dashboard open (monitor_load.py)", "",
             *run_lines(command, started, load), "", *lines, "", "docs/dashboard.png is this run's page."]
        )  # fmt: skip
        write_results("monitor_load.py", section)
    return 0 if result["in_store_once"] and not result["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
