"""Warm kernels for nbval: every notebook still runs in a fresh process, without paying the imports again.

A notebook's kernel spends about 7 CPU-seconds importing torch, transformers and sentence-transformers
before its first cell does anything; `make test` starts 18 of them. With ``--warm-kernels`` (set by
`make test` and `make notebooks`), pytest starts one *fork server* (shared by its xdist workers) that imports those
libraries once and then waits. nbval's kernel is a small launcher that asks the server for a kernel: the
server forks, and the child (a new process with its own memory, copied from the server's) becomes an
ordinary IPython kernel for the notebook's connection file, in the launcher's folder and environment.
The launcher stays the process jupyter_client manages: it passes signals on to the child and exits with
the child's exit code; when the launcher dies, the server kills the child.

The same server starts pytest-xdist's workers: execnet runs a worker as ``<python> -u -c CODE``, and
under ``--warm-kernels`` ``<python>`` is this file's launcher, which hands its stdin, stdout and stderr
to a forked child that runs CODE (the workers then collect and run the unit tests with the libraries
already imported). The browser test asks for a kernel spec of its own (:func:`write_kernel_spec`).

What stays the same: each notebook gets its own process, runs top to bottom, and starts with nothing
of its own defined. What differs from a cold kernel: the libraries listed in ``PRELOAD`` are already in
``sys.modules``. The server refuses to start if importing them printed a warning (it would otherwise
be hidden from the notebooks' outputs), or if it left a thread running (fork would copy a half-state),
and matplotlib is never preloaded (its backend is chosen from the kernel's environment at import).

Usage (the pytest side is the plugin below; these are what it runs):
    python tests/warm_kernel.py serve SOCKET        the fork server
    python tests/warm_kernel.py launch SOCKET FILE  a kernel for connection file FILE
    python tests/warm_kernel.py python SOCKET [-u] [-B] (-c CODE | SCRIPT) [ARG ...]
                                                    like python ..., forked from the server
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PRELOAD = (
    "ipykernel.kernelapp",
    "torch",
    "transformers",
    "sentence_transformers",
    "datasets",
    "stutor.data",
    "stutor.models",
    "stutor.runtime",
    "stutor.training",
)
KERNEL_NAME = "stutor-warm"
SERVER_ENV = "STUTOR_WARM_SERVER"  # set while a server runs; its socket
READY_TIMEOUT_S = 120


def _send(connection: socket.socket, message: dict) -> None:
    payload = json.dumps(message).encode()
    connection.sendall(struct.pack("!I", len(payload)) + payload)


def _receive(connection: socket.socket) -> dict | None:
    header = _read_exactly(connection, 4)
    if header is None:
        return None
    payload = _read_exactly(connection, struct.unpack("!I", header)[0])
    return None if payload is None else json.loads(payload)


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent process exits (no orphaned servers or kernels)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


# --- the fork server -------------------------------------------------------------------------------


def serve(path: str) -> None:
    """Import PRELOAD, then fork a kernel for every launcher that connects to the socket at ``path``."""
    import importlib
    import io
    import selectors
    import threading
    import warnings

    captured = io.StringIO()
    real_stderr, sys.stderr = sys.stderr, captured
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in PRELOAD:
                importlib.import_module(name)
    finally:
        sys.stderr = real_stderr
    problems = [f"{w.category.__name__}: {w.message}" for w in caught]
    problems += [line for line in captured.getvalue().splitlines() if line.strip()]
    if "matplotlib" in sys.modules:
        problems.append("matplotlib was imported by the preloads: its backend would be fixed before the kernel's")
    if threading.active_count() != 1:
        problems.append(f"the preloads left {threading.active_count() - 1} thread(s) running: fork is not safe")
    if problems:
        reason = "warm kernel server: refusing to start:\n  " + "\n  ".join(problems)
        Path(path + ".failed").write_text(reason)  # the launchers print it instead of waiting
        print(reason, file=sys.stderr)
        sys.exit(1)
    from stutor import runtime

    runtime._freeze_imports()  # once here, not in every kernel: the children share these pages untouched

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(16)
    os.rename(path + ".tmp", path)  # launchers only ever see a socket that is listening
    kernels: dict[socket.socket, int] = {}  # a launcher's connection -> the pid of its kernel
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)

    def forget(connection: socket.socket) -> None:
        kernels.pop(connection)
        selector.unregister(connection)
        connection.close()

    while True:
        for key, _ in selector.select(timeout=0.1):
            connection = key.fileobj
            if connection is listener:
                connection, _ = listener.accept()
                request = _receive(connection)
                fds: list[int] = []
                if request is not None and request.get("python"):  # its stdin, stdout and stderr follow
                    _, fds, _, _ = socket.recv_fds(connection, 1, 3)
                if request is None or len(fds) not in (0, 3):
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    for other in kernels:
                        other.close()
                    connection.close()
                    if fds:
                        _become_python(request, fds)  # never returns
                    _become_kernel(request)  # never returns
                for fd in fds:
                    os.close(fd)
                _send(connection, {"pid": pid})
                kernels[connection] = pid
                selector.register(connection, selectors.EVENT_READ)
            elif not connection.recv(1):  # its launcher closed: it died or was killed; kill its kernel
                pid = kernels[connection]
                forget(connection)
                _kill(pid)
        while kernels:  # reap finished kernels and tell their launchers the exit code
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            connection = next((c for c, p in kernels.items() if p == pid), None)
            if connection is not None:
                try:
                    _send(connection, {"exit": os.waitstatus_to_exitcode(status)})
                except OSError:
                    pass
                forget(connection)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _become_kernel(request: dict) -> None:
    """In the forked child: take the launcher's folder and environment, then run an IPython kernel."""
    try:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the server's Python ignored Ctrl-C as KeyboardInterrupt
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        import numpy

        numpy.random.seed()  # fresh, as in a new process (Python's random reseeds itself after a fork)
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as stop:
        code = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - a kernel that cannot start exits; its launcher passes the code on
        code = 1
    finally:
        sys.stdout.flush()
    os._exit(code)


def _become_python(request: dict, fds: list[int]) -> None:
    """In the forked child: be ``python [-u] [-B] (-c CODE | SCRIPT) [ARG ...]`` on the launcher's streams.

    ``-c CODE`` is how execnet starts a pytest-xdist worker; ``SCRIPT`` is how the DDP test's
    launchers start a rank. Either way the process need not import torch and sentence-transformers
    again. Other options are refused.
    """
    import builtins
    import io
    import traceback
    import types

    code = 1
    try:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for target, fd in enumerate(fds):
            if fd != target:
                os.dup2(fd, target)
                os.close(fd)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))  # fresh: nothing read ahead
        sys.stdout, sys.stderr = (
            io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), write_through=True) for fd in (1, 2)
        )  # -u: unbuffered, as execnet asks
        options, source, script, arguments = _python_command(request["python"])
        sys.dont_write_bytecode = "-B" in options
        if script is None:
            sys.argv = ["-c", *arguments]
            sys.path[0] = ""  # python -c: the current folder first, not this script's
            main = types.ModuleType("__main__")
            main.__builtins__ = builtins
            sys.modules["__main__"] = main
            exec(compile(source, "<string>", "exec"), main.__dict__)
        else:
            import runpy

            sys.argv = [script, *arguments]
            sys.path[0] = os.path.dirname(os.path.abspath(script))  # python SCRIPT: the script's folder first
            runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as stop:  # as the interpreter does: sys.exit("message") prints it and exits with 1
        code = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
        if not isinstance(stop.code, int | None):
            print(stop.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback on stderr, exit code 1
        traceback.print_exc()
    finally:
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


def _python_command(argv: list[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """Split ``[-u] [-B] (-c CODE | SCRIPT) [ARG ...]`` into options, code or script, and arguments."""
    options = []
    for position, word in enumerate(argv):
        if word in ("-u", "-B"):
            options.append(word)
        elif word == "-c" and position + 1 < len(argv):
            return options, argv[position + 1], None, argv[position + 2 :]
        elif not word.startswith("-"):
            return options, None, word, argv[position + 1 :]
        else:
            break
    raise SystemExit(f"warm python: only `[-u] [-B] (-c CODE | SCRIPT) [ARG ...]` is supported, not {argv}")


# --- the launcher: the process jupyter_client starts and manages -----------------------------------


def launch(path: str, connection_file: str | None, python: list[str] | None = None) -> int:
    """Ask the server at ``path`` for a kernel (or, with ``python``, a process running that command line
    on this process's stdin, stdout and stderr); pass signals on to it; return its exit code."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not os.path.exists(path):  # the server is still importing
        if os.path.exists(path + ".failed"):
            print(Path(path + ".failed").read_text(), file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"warm kernel: no server at {path} after {READY_TIMEOUT_S} s", file=sys.stderr)
            return 1
        time.sleep(0.05)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    request = {"cwd": os.getcwd(), "env": dict(os.environ)}
    if python is None:
        request["connection_file"] = os.path.abspath(connection_file)
        _send(connection, request)
    else:
        _send(connection, {**request, "python": python})
        socket.send_fds(connection, [b"f"], [0, 1, 2])
    reply = _receive(connection)
    if reply is None:
        return 1
    pid = reply["pid"]

    def forward(number, _frame):
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(number, forward)
    reply = _receive(connection)  # Python retries recv after a forwarded signal (PEP 475)
    return 1 if reply is None else int(reply["exit"])


# --- the pytest plugin -----------------------------------------------------------------------------


_server: tuple[Path, contextlib.ExitStack] | None = None  # this pytest process's server: its folder, its stop


def _start_server() -> tuple[Path, contextlib.ExitStack]:
    global _server
    if _server is None:
        import shutil

        folder = Path(tempfile.mkdtemp(prefix="stutor-warm-"))
        stack = contextlib.ExitStack()
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        stack.enter_context(running(folder))  # before xdist starts its workers, so they inherit it
        _server = folder, stack
    return _server


def _stop_server() -> None:
    global _server
    if _server is not None:
        _server[1].close()
        _server = None


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--warm-kernels",
        action="store_true",
        help="run notebooks in kernels forked from a process that has imported torch and sentence-transformers",
    )
    # Asked for on the command line: start the server now, so that its imports overlap with pytest's
    # loading of its other plugins (about 2 s); pytest_configure takes it over.
    import shlex

    words = sys.argv[1:] + shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    if "--warm-kernels" in words and not os.environ.get(SERVER_ENV):
        _start_server()


def write_kernel_spec(folder: Path, server: str, name: str = KERNEL_NAME) -> None:
    """A kernel spec ``name`` in ``folder``/kernels (put ``folder`` on JUPYTER_PATH) whose kernels fork from ``server``.

    Named ``python3``, it replaces the default kernel of a Jupyter server started with that JUPYTER_PATH.
    """
    spec = folder / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(Path(__file__).resolve()), "launch", server, "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3 (warm, tests)", "language": "python"})
    )


def start(folder: Path) -> subprocess.Popen:
    """Start a fork server whose kernel spec ``stutor-warm`` is in ``folder`` (put it on JUPYTER_PATH)."""
    path = str(folder / "server.sock")
    write_kernel_spec(folder, path)
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", path], preexec_fn=_die_with_parent)


@contextlib.contextmanager
def running(folder: Path) -> Iterator[None]:
    """A fork server in ``folder`` while the block runs, found through JUPYTER_PATH and SERVER_ENV."""
    server = start(folder)
    saved = {name: os.environ.get(name) for name in ("JUPYTER_PATH", SERVER_ENV)}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), saved["JUPYTER_PATH"]]))
    os.environ[SERVER_ENV] = str(folder / "server.sock")  # inherited by the processes started meanwhile
    try:
        yield
    finally:
        server.kill()
        server.wait()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_configure(config) -> None:
    if not config.getoption("--warm-kernels"):
        _stop_server()  # started early for a command line that, parsed, did not ask for it
        return
    config.option.nbval_kernel_name = KERNEL_NAME
    if os.environ.get(SERVER_ENV) and _server is None:  # an xdist worker: the controller started the server
        return
    folder, _ = _start_server()
    # pytest-xdist's workers (started at session start from these specs) fork from the server too:
    # execnet runs `<python> -u -c CODE`, and `python` here is this file's launcher.
    worker_python = f"{sys.executable} {Path(__file__).resolve()} python {folder / 'server.sock'}"
    tx = getattr(config.option, "tx", None) or []
    config.option.tx = [f"popen//python={worker_python}" if spec == "popen" else spec for spec in tx]


def pytest_unconfigure(config) -> None:
    _stop_server()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "launch":
        sys.exit(launch(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "python":
        _python_command(sys.argv[3:])  # refused here, before asking the server
        sys.exit(launch(sys.argv[2], None, python=sys.argv[3:]))
    else:
        print(__doc__.split("Usage")[1], file=sys.stderr)
        sys.exit(2)
