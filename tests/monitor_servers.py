"""The real servers the monitor's tests use: a throwaway PostgreSQL cluster, headless Chromium under Selenium.

Each skips its test, saying why, where it cannot be had; scripts/test installs Debian's
postgresql, chromium and chromium-driver where it can (root, apt-get).
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from monitor_load import launch_chromium  # noqa: E402

INSTALL = "scripts/test installs Debian's {} where it can (root, apt-get)"


def _postgres_bin(name):
    # Debian keeps the server's programs out of PATH, one folder a major version: the newest.
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


@contextmanager
def postgres_cluster():
    """A PostgreSQL cluster made for the test run (``initdb``) listening on a unix socket only; yields its URL.

    ``initdb`` refuses to run as root: as root, the cluster belongs to the ``postgres`` user (or ``nobody``).
    """
    pytest.importorskip("psycopg", reason="no psycopg: pip install 'audioad[postgres]'")
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("no PostgreSQL server (initdb): " + INSTALL.format("postgresql"))
    run_as = []
    base = tempfile.mkdtemp(prefix="audioad-pg-")
    if os.geteuid() == 0:
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        if user is None or shutil.which("runuser") is None:
            shutil.rmtree(base)
            pytest.skip("running as root with no postgres or nobody user (and runuser) to run initdb as")
        owner = pwd.getpwnam(user)
        os.chown(base, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", user, "--"]
    data = os.path.join(base, "data")
    started = False
    try:
        made = subprocess.run(
            [*run_as, initdb, "-D", data, "-A", "trust", "-U", "audioad", "-E", "UTF8", "--no-sync"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if made.returncode:
            pytest.skip(f"initdb failed: {made.stderr.strip().splitlines()[-1:]}")
        options = f"-k {base} -c listen_addresses='' -p 5432 -F"
        start = subprocess.run(
            [*run_as, pg_ctl, "-D", data, "-o", options, "-l", os.path.join(base, "log"), "-w", "-t", "60", "start"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if start.returncode:
            pytest.skip(f"the PostgreSQL server did not start: {start.stdout.strip()[-300:]}")
        started = True
        yield f"postgresql://audioad@/postgres?host={base}&port=5432"
    finally:
        if started:
            subprocess.run(
                [*run_as, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60
            )
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def fresh_database(url):
    """A new, empty database on the cluster at ``url``; its URL."""
    import psycopg

    name = "t" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?")


@contextmanager
def chromium():
    """Headless Chromium driven by Selenium (benchmarks/monitor_load.py launches it); quit on the way out."""
    try:
        session = launch_chromium()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        yield session
    finally:
        session.quit()
