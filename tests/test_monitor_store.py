"""The history store's contract, on SQLite and on a real PostgreSQL server: rows once, alerts, state, migrations."""

import threading
import time

import pytest
from monitor_servers import fresh_database, postgres_cluster

from audioad.monitor import store as store_module
from audioad.monitor.backends import open_store
from audioad.monitor.store import AlertChange, Segment, StoreError


@pytest.fixture(scope="module")
def postgres():
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    """Where a fresh store is: a new SQLite file, or a new database on the test's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "plant.sqlite")
    return fresh_database(request.getfixturevalue("postgres"))


def segment(file, start, score, label=0, alert=0, at=None):
    return Segment(file, start, start + 2.0, score, label, alert, time.time() if at is None else at, "")


def test_a_segment_goes_in_once_with_its_alerts_state_and_acknowledgement(where):
    with open_store(where) as store:
        press = store.source_id("press3", "ab" * 32, "/models/press.audioad", 1.0, 2.0, "2/3", 2.0, 2.0)
        pump = store.source_id("pump1", "cd" * 32, threshold=1.0, alert_threshold=2.0)
        assert store.source_id("press3", "ab" * 32, threshold=1.5) == press  # settings updated, same source
        rows = [segment("a.wav", 0.0, 0.5), segment("a.wav", 2.0, 2.5, 1), segment("a.wav", 4.0, 2.6, 1, 1)]
        raised = AlertChange("raised", "a.wav", 4.0, 6.0, 2.6, time.time())
        assert store.record(press, rows, [raised], '{"rows": 3}') == 3
        # Scored again (a restart, a second watch on the folder): the database refuses every row.
        assert store.record(press, rows, [], '{"rows": 3}') == 0
        # The same file and times from another machine are its own rows.
        assert store.record(pump, rows[:1], [], None) == 1
        error = Segment("b.wav", float("nan"), float("nan"), float("nan"), None, 1, time.time(), "not audio")
        assert store.record(press, [error], [], '{"rows": 4}') == 1
        sources = {s["name"]: s for s in store.sources()}
        assert sources["press3"]["segments"] == 4 and sources["press3"]["state"] == "alarm"
        assert sources["press3"]["threshold"] == 1.5 and sources["press3"]["last_error"] == "not audio"
        assert sources["pump1"]["state"] == "normal" and sources["pump1"]["last_score"] == 0.5
        assert store.load_state(press) == '{"rows": 4}' and store.load_state(pump) is None
        assert store.counts()[press] == (4, 2, 1)
        assert [r["score"] for r in store.segments("press3")] == [0.5, 2.5, 2.6, None]
        assert len(store.segments(since=time.time() + 60)) == 0
        page = store.segments(limit=2)
        assert len(page) == 2 and [r["id"] for r in store.segments(after=page[-1]["id"])] == [
            r["id"] for r in store.segments()[2:]
        ]
        (alert,) = store.alerts()
        assert (alert["source"], alert["start"], alert["cleared_at"]) == ("press3", 4.0, None)
        before = store.version()
        store.record(press, [segment("c.wav", 0.0, 0.1)], [AlertChange("cleared", "c.wav", 0, 2, 0.1, 5.0)], None)
        assert store.alert(alert["id"])["cleared_at"] == 5.0 and store.version() != before
        assert store.acknowledge(alert["id"], "ann", "belt slipping") and not store.acknowledge(999, "ann")
        acknowledged = store.alert(alert["id"])
        assert (acknowledged["acknowledged_by"], acknowledged["note"]) == ("ann", "belt slipping")
        assert acknowledged["source"]["model_path"] == "/models/press.audioad"
        series = store.series(time.time() - 3600, 60)
        assert max(score for _, score, _ in series[press]) == 2.6 and sum(n for _, _, n in series[press]) == 4


def test_watches_writing_at_once_each_get_every_row_in(where):
    def write(name):
        with open_store(where) as store:
            source = store.source_id(name, "ab" * 32)
            for i in range(40):
                store.record(source, [segment("live", 2.0 * i, float(i))], [], f'{{"rows": {i + 1}}}')

    writers = [threading.Thread(target=write, args=(f"machine{i}",)) for i in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    with open_store(where) as store:
        assert [s["segments"] for s in store.sources()] == [40] * 4
        assert len(store.segments()) == 160


def test_an_older_store_is_migrated_and_a_newer_one_refused_in_one_line(where, monkeypatch):
    with open_store(where) as store:
        store.source_id("press3", "ab" * 32)
    later = [*store_module.MIGRATIONS, ["ALTER TABLE sources ADD COLUMN site TEXT"]]
    monkeypatch.setattr(store_module, "MIGRATIONS", later)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    with open_store(where) as store:
        assert store.schema_version() == 2 and [s["name"] for s in store.sources()] == ["press3"]
    monkeypatch.undo()
    with pytest.raises(StoreError, match="schema is version 2, newer than this audioad's .1.; upgrade") as refused:
        open_store(where)
    assert "\n" not in str(refused.value) and "password" not in str(refused.value)


def test_a_file_that_is_not_a_sqlite_database_is_refused(tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF....WAVEfmt ")
    with pytest.raises(StoreError, match="a.wav: not a SQLite database"):
        open_store(wav)
    assert wav.read_bytes() == b"RIFF....WAVEfmt "
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody@/none?host=/nonexistent&connect_timeout=1")
