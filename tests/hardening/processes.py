"""Real processes for the fault tests (tests/hardening/test_faults.py): a private redis-server, a
Celery worker and gunicorn, on the pytest test database, each logging to its own file. Every wait
is bounded and every process is stopped by `Processes.stop_all()` (a fixture's teardown).

Run as a module, this file is the entry point of the Celery worker
(`python -m tests.hardening.processes -A config worker ...`); `wsgi()` is gunicorn's
(`gunicorn 'tests.hardening.processes:wsgi()'`). Both first apply the settings overrides passed as
JSON in VAULT_FAULT_SETTINGS on top of config.settings.test (not eager, e-mail to files), so the
shared settings files need no switch for these tests. Nothing here imports Django at module level.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
OVERRIDES_ENV = "VAULT_FAULT_SETTINGS"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy (returned); AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def database_url(settings_dict: dict) -> str:
    """postgres:// URL of a Django database (the pytest test database), for subprocesses."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: children, theirs, and so on (those in sessions of their own too)."""
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


class Process:
    """A subprocess in its own session, its output (stdout and stderr) in `log`."""

    def __init__(self, name: str, argv: list[str], *, log: Path, env: dict[str, str]):
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.popen: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n=== start {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and everything in its session (its pool children); reap it. The
        group id is ours as long as the leader is unreaped or a member of the group remains."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (a graceful stop), SIGKILL to the whole session after `timeout` s or anyway."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()  # stragglers of the session (a pool child stuck on a lock)

    def tail(self, lines: int = 80) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def wait_log(self, needle: str, *, timeout: float) -> None:
        def seen() -> bool:
            if not self.alive():
                raise AssertionError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")
            return needle in self.log.read_text(errors="replace")

        try:
            wait_for(seen, timeout=timeout, what=f"{needle!r} in the log of {self.name}", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} ({self.log}):\n{self.tail()}") from None


class Redis(Process):
    """A private redis-server on `port`: no persistence, its files in `workdir`."""

    def __init__(self, *, port: int, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--daemonize", "no", "--dir", str(workdir)]
        super().__init__(f"redis:{port}", argv, log=workdir / "redis.log", env=dict(os.environ))

    def start(self) -> None:
        super().start()
        wait_for(self.ping, timeout=15, what=f"redis-server on port {self.port}")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.exceptions.RedisError:
            return False


class Processes:
    """Starts the processes of one test and stops them all (`stop_all`, fixture teardown)."""

    def __init__(self, *, tmp_path: Path, database_url: str):
        self.tmp_path, self.database_url = tmp_path, database_url
        self.started: list[Process] = []
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)

    def _track(self, process: Process) -> Process:
        self.started.append(process)
        return process

    def redis(self) -> Redis:
        return self._track(Redis(port=free_port(), workdir=self.tmp_path / "redis"))

    def env(self, *, broker_url: str, result_backend: str = "") -> dict[str, str]:
        overrides = {
            "CELERY_TASK_ALWAYS_EAGER": False,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
        }
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": result_backend,
            OVERRIDES_ENV: json.dumps(overrides),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        return env

    def worker(self, *, broker_url: str, result_backend: str, name: str = "worker") -> Process:
        """A prefork worker with one pool child (acks_late, reject_on_worker_lost from settings)."""
        argv = [sys.executable, "-m", "tests.hardening.processes", "-A", "config", "worker"]
        argv += ["--pool=prefork", "--concurrency=1", "--loglevel=INFO", f"--hostname={name}@faults"]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        env = self.env(broker_url=broker_url, result_backend=result_backend)
        return self._track(Process(name, argv, log=self.tmp_path / f"{name}.log", env=env))

    def gunicorn(self, *, broker_url: str, port: int, workers: int = 2) -> Process:
        argv = [sys.executable, "-m", "gunicorn", "tests.hardening.processes:wsgi()", "-b", f"127.0.0.1:{port}"]
        argv += ["-w", str(workers), "--timeout", "60", "--graceful-timeout", "5", "--chdir", str(ROOT)]
        env = self.env(broker_url=broker_url)
        return self._track(Process("gunicorn", argv, log=self.tmp_path / "gunicorn.log", env=env))

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log}):\n{p.tail()}" for p in self.started)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


def apply_overrides() -> None:
    """Set the Django settings named in VAULT_FAULT_SETTINGS (JSON) before anything reads them."""
    from django.conf import settings

    for name, value in json.loads(os.environ.get(OVERRIDES_ENV, "{}")).items():
        setattr(settings, name, value)


def wsgi():
    """gunicorn's application factory: the project's WSGI app with the overrides applied."""
    apply_overrides()
    from config.wsgi import application

    return application


def main(argv: list[str]) -> None:
    apply_overrides()
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", *argv]
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
