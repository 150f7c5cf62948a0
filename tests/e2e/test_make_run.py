"""A fresh clone's ``make run`` serves the home page and the log-in page in Chromium, prints the
demo logins, and Ctrl-C stops the web server, the worker and the scheduler together.

The clone reuses this checkout's virtualenv (``VENV=``) so the test does not reinstall the
world; everything else — migrate, the demo city, serving — is the clone's own ``make run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, _free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="make run's default database is SQLite: checked in the SQLite pass"),
]


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make run exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"make run did not serve {url}:\n{log.read_text()[-3000:]}")


def test_fresh_clone_make_run_serves_home_and_login(tmp_path, browser):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
                   check=True, timeout=120)
    # The shared virtualenv is up to date: keep make from reinstalling it.
    old = time.time() - 3600
    os.utime(clone / "pyproject.toml", (old, old))
    venv = Path(sys.executable).parent.parent
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VAR_DIR")}
    env.update({"HOST": "127.0.0.1", "PORT": str(port), "SEED_SCALE": "small",
                "WEB_WORKERS": "1", "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "run", f"VENV={venv}"], cwd=clone, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/api/v1/health", proc, log)
        printed = log.read_text()
        assert "13800000000" in printed and "sportsman-demo" in printed  # the demo logins

        context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812})
        page = context.new_page()
        page.goto(f"{base}/")
        assert page.locator("h1").first.inner_text() == "运动家"
        page.goto(f"{base}/accounts/login/")
        assert page.locator("input[name=phone]").is_visible()
        page.fill("input[name=phone]", "13800000000")
        page.fill("input[name=password]", "sportsman-demo")
        with page.expect_navigation():
            page.locator("form button[type=submit]").last.click()
        assert "/accounts/login" not in page.url
        context.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        code = proc.wait(timeout=30)
    assert code in (0, 2, -signal.SIGINT), log.read_text()[-2000:]
    time.sleep(1)
    leftovers = subprocess.run(["pgrep", "-f", str(clone)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"still running after Ctrl-C: {leftovers.stdout}"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/api/v1/health", timeout=2)
    # make run's load step again (as a second make run does it) adds nothing.
    users_before = _count_users(clone)
    second = subprocess.run(
        [str(venv / "bin" / "python"), "manage.py", "seed_demo", "--scale", "small",
         "--if-empty"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert users_before > 100
    assert _count_users(clone) == users_before


def _count_users(clone: Path) -> int:
    import sqlite3

    with sqlite3.connect(clone / "var" / "sportsman.sqlite3") as db:
        return db.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
