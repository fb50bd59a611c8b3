"""`make run` as a newcomer runs it: a fresh SQLite database and broker folder, the demo loaded,
the web server, a Celery worker and beat started; the URL and logins are the last thing printed;
Ctrl-C stops every process within 10 s, cleanly."""

import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from tests.hardening.processes import descendants, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = "Press Ctrl-C to stop everything."


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _strip_prefix(line: str) -> str:
    """honcho prints `HH:MM:SS name.1 | text`."""
    return line.split("| ", 1)[1] if "| " in line else line


def test_make_run_serves_the_demo_prints_logins_last_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "DATABASE_URL", "CELERY_", "CACHE_URL", "VAULT_TEST"))
    }
    env.update(VAULT_VAR_DIR=str(tmp_path / "var"), SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    make = subprocess.Popen(  # noqa: S603
        ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(make.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(LAST_LINE in line for line in lines), timeout=240, what="the banner of make run")
        time.sleep(4)  # the worker and beat are up and quiet: nothing may push the logins off screen
        printed = [_strip_prefix(line).strip() for line in lines if _strip_prefix(line).strip()]
        assert printed[-1] == LAST_LINE, "".join(lines[-30:])
        banner = printed[printed.index("Vault is running.") :]
        assert f"Admin (managers, finance, auditors): http://127.0.0.1:{port}/admin/" in banner
        assert "Demo logins (password vault-demo-2026):" in banner
        assert {"manager    manager", "acme       manufacturer"} <= set(banner)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        processes = descendants(make.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in processes if _alive(pid))
        assert "runserver" in commands and "worker" in commands and "beat" in commands

        started = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        wait_for(lambda: not any(_alive(pid) for pid in [make.pid, *processes]), timeout=10, what="every process")
        assert time.monotonic() - started < 10
    finally:
        for pid in [make.pid, *descendants(make.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        make.wait(timeout=10)
    reader.join(timeout=5)
    output = "".join(lines)
    for symptom in ("Traceback", "RecursionError", "Segmentation fault", "core dumped"):
        assert symptom not in output, output[-3000:]
    assert output.count("Warm shutdown") <= 1
