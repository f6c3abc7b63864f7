"""JupyterLab in headless Chromium, as the browser test and ``make binder`` both start it.

One place for what the two share: Chromium's flags, the JupyterLab user settings of a run, the
server's environment (offline, quiet, its own settings and runtime folders), the command line, a
free loopback port, a copy of a notebook without its outputs, and waiting for the server to answer.
Used by ``tests/test_browser.py`` (notebook 01 through the menus) and ``benchmarks/bench_binder.py``
(the whole course in 2 GiB).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Background tabs must keep their websocket and timers alive: learners' earlier tabs stay connected.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# JupyterLab user settings for the run: never write the file, no news pop-up, every cell in the DOM.
LAB_SETTINGS = {
    "docmanager-extension/plugin": {"autosave": False},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_command(port: int, token: str, root_dir: Path) -> list[str]:
    """The command that starts JupyterLab from this environment, serving ``root_dir`` on ``port``."""
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    command += [f"--ServerApp.token={token}", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root_dir}"]
    return command + (["--allow-root"] if os.geteuid() == 0 else [])


def lab_environment(tmp: Path, **extra: str) -> dict[str, str]:
    """The server's environment: offline and quiet, settings and runtime folders below ``tmp``, then ``extra``."""
    settings = tmp / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        STUTOR_QUIET="1",
        TOKENIZERS_PARALLELISM="false",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    env.update(extra)  # after the defaults: a caller may override one (make binder: STUTOR_QUIET="0")
    return env


def copy_without_outputs(source: Path, target: Path) -> None:
    """Write ``source`` (a notebook) to ``target`` with every code cell's outputs and count removed."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def wait_for_server(process: subprocess.Popen, url: str, token: str, seconds: float, log: Path | None = None) -> None:
    """Return once ``url`` answers ``/api/status``; raise RuntimeError if the server exits or stays silent."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            detail = f": {log.read_text()}" if log is not None and log.is_file() else ""
            raise RuntimeError(f"JupyterLab exited with code {process.returncode} before it answered{detail}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")
        time.sleep(0.1)
