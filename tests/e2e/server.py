"""Serve the platform the way ``make run`` does, for browser tests and screenshots.

A private VAR_DIR and database (SQLite in VAR_DIR, or a separate PostgreSQL database when
DATABASE_URL names PostgreSQL), ``manage.py migrate`` and ``manage.py seed_demo --scale small``
once (``seeded``); then, per test module, ``manage.py serve`` (granian, the task worker and the
scheduler) on a free port over a copy of that VAR_DIR and database (a file copy, or PostgreSQL's
``CREATE DATABASE ... TEMPLATE``): a module's changes never reach the next module.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DEMO_PASSWORD = "sportsman-demo"


@dataclass
class Server:
    url: str
    var_dir: Path
    log: Path
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        """Run a management command against the served platform's database (what its
        scheduler would run later, run now)."""
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT,
                              env=self.env, check=True, capture_output=True, text=True)
        return done.stdout

    def sms_to(self, phone: str) -> list[dict]:
        path = self.var_dir / "outbox" / "sms.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        return [r for r in rows if r["phone"] == phone]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_copies = itertools.count()


@contextlib.contextmanager
def _database(env: dict[str, str], tag: str, template: str = "") -> Iterator[None]:
    """A database of its own for one seeding or one served copy: SQLite in VAR_DIR (copied with
    it), or a new PostgreSQL database, made from ``template``'s when one is given."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = ""
        yield
        return
    import psycopg

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/') or 'sportsman'}_e2e_{os.getpid()}_{tag}"
    admin = urlunparse(parsed._replace(path="/postgres"))
    source = f' TEMPLATE "{urlparse(template).path.lstrip("/")}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"{source}')
    env["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{name}"))
    try:
        yield
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"VAR_DIR": str(var_dir), "HOST": "127.0.0.1", "WEB_WORKERS": "1",
                "DEBUG": "0", "PYTHONUNBUFFERED": "1"})
    return env


@dataclass
class Seeded:
    """A migrated database holding the small demo city, with its VAR_DIR (media, keys): each
    served platform starts from a copy of it, so no test sees another module's changes."""
    var_dir: Path
    database_url: str


@contextlib.contextmanager
def seeded() -> Iterator[Seeded]:
    """``manage.py migrate`` and ``manage.py seed_demo --scale small``, once."""
    with tempfile.TemporaryDirectory(prefix="sportsman-e2e-seed-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        env = _environment(var_dir)
        with _database(env, "seed"), (Path(tmp) / "seed.log").open("w") as out:
            manage = [sys.executable, str(ROOT / "manage.py")]
            for step in (["migrate", "--noinput"], ["seed_demo", "--scale", "small",
                                                    "--verbosity", "0"]):
                subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, stdout=out,
                               stderr=subprocess.STDOUT)
            yield Seeded(var_dir=var_dir, database_url=env["DATABASE_URL"])


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not become healthy:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve(seed: Seeded | None = None,
          extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``manage.py serve`` (granian, the task worker and the scheduler) on a free port, over a
    copy of ``seed`` (seeded here first when none is given), with ``extra_env`` set."""
    if seed is None:
        with seeded() as made, serve(made, extra_env) as running:
            yield running
        return
    with tempfile.TemporaryDirectory(prefix="sportsman-e2e-") as tmp:
        var_dir = Path(tmp) / "var"
        shutil.copytree(seed.var_dir, var_dir)
        port = _free_port()
        env = _environment(var_dir)
        env["PORT"] = str(port)
        env.update(extra_env or {})  # e.g. OIDC_PROVIDERS of a provider the test runs
        log = Path(tmp) / "server.log"
        with _database(env, f"copy{next(_copies)}", template=seed.database_url), \
                log.open("w") as out:
            manage = [sys.executable, str(ROOT / "manage.py")]
            proc = subprocess.Popen([*manage, "serve"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(url, proc, log)
                yield Server(url=url, var_dir=var_dir, log=log, env=env)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
