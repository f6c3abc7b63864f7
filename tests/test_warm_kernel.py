"""The warm kernels of `make test` (tests/warm_kernel.py): a fresh process per notebook, imports done, no orphans."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
import warm_kernel


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """The server the workers share under `make test` (--warm-kernels); otherwise one started here."""
    if os.environ.get(warm_kernel.SERVER_ENV):
        yield warm_kernel.KERNEL_NAME
        return
    with warm_kernel.running(tmp_path_factory.mktemp("warm")):
        yield warm_kernel.KERNEL_NAME


def _run(client, code: str) -> str:
    printed: list[str] = []

    def keep(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = client.execute_interactive(code, output_hook=keep, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed)


def _alive(pid: int) -> bool:
    try:  # a zombie has exited; only its parent has not collected it yet
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_each_kernel_is_a_fresh_process_with_the_imports_done_and_leaves_no_orphan(kernel_name, tmp_path):
    from jupyter_client.manager import start_new_kernel

    pids = []
    for how in ("kill the launcher", "shut down"):
        manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=120, cwd=str(tmp_path))
        launcher = manager.provisioner.process
        try:
            printed = _run(
                client,
                "import os, sys\n"
                "print(os.getpid(), os.getcwd(), 'sentence_transformers' in sys.modules, os.environ['STUTOR_QUIET'])\n"
                "seen = 'answer' in dir()\n"
                "answer = 42\n"
                "print(seen)",
            )
            pid, cwd, preloaded, quiet, seen_before = printed.split()
            assert (cwd, preloaded, quiet, seen_before) == (str(tmp_path), "True", "1", "False")
            assert int(pid) != launcher.pid  # the kernel is a child of the server, not the launcher
            pids.append(int(pid))
        finally:
            client.stop_channels()
            if how == "kill the launcher":
                os.kill(launcher.pid, signal.SIGKILL)  # the server must then kill the kernel
                launcher.wait()
            manager.shutdown_kernel(now=how == "kill the launcher")
        deadline = time.monotonic() + 10
        while _alive(pids[-1]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pids[-1]), f"the kernel outlived its launcher ({how})"
        if how == "shut down":
            assert launcher.wait(timeout=10) == 0  # the launcher passes on the kernel's exit code
    assert pids[0] != pids[1]


def test_a_launcher_gives_up_at_once_with_the_reason_when_the_server_refused_to_start(tmp_path, capsys):
    path = str(tmp_path / "server.sock")
    (tmp_path / "server.sock.failed").write_text("warm kernel server: refusing to start:\n  UserWarning: noise")
    start = time.monotonic()
    assert warm_kernel.launch(path, str(tmp_path / "kernel.json")) == 1
    assert time.monotonic() - start < 5  # not the 120 s wait for a server that is still importing
    assert "UserWarning: noise" in capsys.readouterr().err


def test_a_warm_python_runs_its_code_on_the_launchers_streams_and_passes_its_exit_code_on(kernel_name, tmp_path):
    """What pytest-xdist's workers (`python -u -c CODE`) and DDP ranks (`python SCRIPT ARGS`) are under `make test`."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "line = sys.stdin.readline().strip()\n"
        "print(os.getpid(), os.getcwd(), 'torch' in sys.modules, __name__, repr(sys.path[0]), line)\n"
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(3)"
    )
    server = os.environ[warm_kernel.SERVER_ENV]
    launcher = [sys.executable, warm_kernel.__file__, "python", server]
    result = subprocess.run(
        [*launcher, "-u", "-c", code], input="hello\n", capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 3, result.stderr
    pid, cwd, preloaded, name, path0, line = result.stdout.split()
    assert (cwd, preloaded, name, path0, line) == (str(tmp_path), "True", "__main__", "''", "hello")
    assert result.stderr == "to stderr\n"
    failed = subprocess.run([*launcher, "-c", "1 / 0"], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "ZeroDivisionError" in failed.stderr  # a traceback, as python prints it
    script = tmp_path / "script.py"
    script.write_text("import os, sys\nprint(__name__, __file__ == sys.argv[0], sys.argv[1:], sys.path[0])\n")
    ran = subprocess.run([*launcher, "-u", str(script), "a", "-b"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.split() == ["__main__", "True", "['a',", "'-b']", str(tmp_path)]
    refused = subprocess.run([*launcher, "-m", "json.tool"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "only `[-u] [-B] (-c CODE | SCRIPT) [ARG ...]`" in refused.stderr
