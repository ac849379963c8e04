"""Load: 8 machines writing into one SQLite history at 10 segments a second, the dashboard open in Chromium, 20 s."""

from monitor_load import run
from monitor_servers import chromium


def test_eight_watches_into_one_store_with_the_dashboard_open(tmp_path):
    with chromium() as browser:
        result = run(browser, tmp_path, seconds=20)
    assert result["failures"] == [] and result["server_exit"] == 0
    assert result["written"] >= 190 and result["rows_per_second"] > 9.5
    assert result["in_store_once"] and result["page_counts_match"]
    # The page drew (nearly) every row, each under 1 s after its commit.
    assert result["updates_seen"] >= 0.9 * result["written"]
    assert result["latency_max"] < 1.0, result
    assert result["rss_end_mb"] - result["rss_start_mb"] < 5.0, result
    assert result["states"]["press3"] == "alarm"
