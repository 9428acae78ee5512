"""`make run` (scripts/run.sh) stops cleanly however it is stopped: Ctrl-C (SIGINT), SIGTERM or SIGHUP
sent to its process group leaves no process of its session behind within 30 seconds.

Each case starts the script in a new session on a free port with its own VAR_DIR (SQLite, embedded broker),
waits until the web server answers and the worker is ready, signals the group, and watches the session.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 30


def _environment(var_dir: Path) -> dict[str, str]:
    drop = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_URL", "RUN_ADDRESS")
    environment = {key: value for key, value in os.environ.items() if key not in drop}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir)})
    return environment


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    """One migrated SQLite database for the three starts (migrating is the slow part)."""
    var_dir = tmp_path_factory.mktemp("run") / "var"
    for command in (["-m", "config.local_files"], ["manage.py", "migrate", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, *command], cwd=ROOT, env=_environment(var_dir), check=True,
                       capture_output=True, text=True, timeout=600)
    return var_dir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _session(session_id: int) -> list[int]:
    """The processes whose session is `session_id` (field 6 of /proc/<pid>/stat)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310 - a local http URL built here
            return response.status == 200
    except OSError:
        return False


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_it_leaves_no_process_behind_however_make_run_is_stopped(var_dir, tmp_path, stop_signal):
    port = _free_port()
    celery_log = var_dir / "log" / "celery.log"
    celery_log.unlink(missing_ok=True)
    output = tmp_path / "run.out"
    with open(output, "w") as out:
        run = subprocess.Popen(["scripts/run.sh"], cwd=ROOT, env={**_environment(var_dir), "RUN_ADDRESS": f"127.0.0.1:{port}"},
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        started = _wait(lambda: _answers(f"http://127.0.0.1:{port}/health/ready/")
                        and celery_log.exists() and " ready." in celery_log.read_text(), 180)
        assert started, f"make run did not start:\n{output.read_text()[-3000:]}"
        assert len(_session(run.pid)) >= 5  # the script, the web server and its reloader, the worker, its pool

        os.killpg(run.pid, stop_signal)

        stopped = _wait(lambda: not _session(run.pid), STOP_SECONDS)
        left = subprocess.run(["ps", "-o", "pid,stat,cmd", "-s", str(run.pid)], capture_output=True, text=True).stdout
        assert stopped, f"left after {STOP_SECONDS}s:\n{left}\n{celery_log.read_text()[-3000:]}"
        assert run.wait(timeout=5) == 128 + stop_signal  # the script says which signal stopped it
    finally:
        for pid in _session(run.pid):  # a failed case leaves nothing behind either
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run.wait(timeout=30)
