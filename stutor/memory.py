"""Memory on this machine: the container's limit, what each notebook needs, and what holds the rest.

A Binder gives a learner about 2 GB, and every notebook left open keeps its kernel's memory. So
each notebook's set-up cell calls :func:`check_room` (through :func:`stutor.runtime.configure`): it
compares the notebook's measured peak (``make bench`` writes ``resources/memory_needs.json``) with
what is left under the container's limit (cgroup v2 or v1, not the host's RAM) and, when it will
not fit, says so before any model loads, lists this Jupyter server's other kernels by notebook,
and offers :func:`shut_down_other_kernels`. Nothing is shut down unless the learner calls it.

:func:`training_room` tells :func:`stutor.models.resolve_model` whether training a model fits,
from the course's own training-memory benchmark (``benchmarks/bench_memory.py``).

:func:`release` drops what a section no longer needs (a model, a trainer) and hands the freed
memory back to the operating system, so that a finished notebook's kernel holds less while it
waits; :func:`return_freed_memory` is the second half of it, for library code, and
:func:`return_memory_promptly` (called by :func:`stutor.runtime.configure`) makes the C library
return large freed blocks at once.

Taught in: the set-up cell of every notebook (``release`` in 01, 02, 03, 05, 07; ``return_freed_memory``
in 08); the teacher guide's "Running on Binder" section.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

MB = 2**20
_UNLIMITED = 2**60  # cgroup v1 writes a huge number for "no limit"
MENU_PATH = (
    'JupyterLab\'s "Running Terminals and Kernels" panel (the square-in-a-circle icon in the left sidebar): '
    "press Shut Down next to the other notebooks"
)


@dataclass(frozen=True)
class Room:
    """Memory under this process' limit, in MB.

    Attributes:
        limit_mb: the container's limit (or the host's RAM when there is none).
        used_mb: what the container uses now (page cache that can be dropped not counted).
        source: where the numbers come from: ``"cgroup v2"``, ``"cgroup v1"``, ``"MEM_LIMIT"`` (the
            variable JupyterHub sets) or ``"host"``.
    """

    limit_mb: float
    used_mb: float
    source: str

    @property
    def free_mb(self) -> float:
        """What is left under the limit."""
        return max(0.0, self.limit_mb - self.used_mb)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _stat(path: Path, key: str) -> int:
    for line in (_read(path) or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.isdigit():
            return int(value)
    return 0


def _host_room(meminfo: Path) -> Room:
    fields = {}
    for line in (_read(meminfo) or "").splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * 1024
    total = fields.get("MemTotal", 0)
    available = fields.get("MemAvailable", total)
    return Room(total / MB, (total - available) / MB, "host")


def room(root: str | Path = "/sys/fs/cgroup", proc: str | Path = "/proc") -> Room:
    """Measure the memory under this process' limit: its cgroup's (v2, v1, or the container's own mounted
    as the root), else ``MEM_LIMIT``, else the host's.

    Args:
        root: where the cgroup file systems are mounted (a folder of files in tests).
        proc: the proc file system (``self/cgroup`` and ``meminfo`` are read).

    Returns:
        A :class:`Room`.
    """
    root, proc = Path(root), Path(proc)
    host = _host_room(proc / "meminfo")
    for line in (_read(proc / "self" / "cgroup") or "").splitlines():
        number, _, rest = line.partition(":")
        controllers, _, group = rest.partition(":")
        group = group.lstrip("/")
        if number == "0" and controllers == "":  # cgroup v2: one unified hierarchy
            folder = root / group
            limit, used = _read(folder / "memory.max"), _read(folder / "memory.current")
            if limit and limit != "max" and limit.isdigit() and used and used.isdigit():
                cache = _stat(folder / "memory.stat", "inactive_file")
                return Room(int(limit) / MB, (int(used) - cache) / MB, "cgroup v2")
        elif "memory" in controllers.split(","):  # cgroup v1: the memory controller's own hierarchy
            folder = root / "memory" / group
            limit, used = _read(folder / "memory.limit_in_bytes"), _read(folder / "memory.usage_in_bytes")
            if limit and limit.isdigit() and int(limit) < _UNLIMITED and used and used.isdigit():
                cache = _stat(folder / "memory.stat", "total_inactive_file")
                return Room(min(int(limit) / MB, host.limit_mb), (int(used) - cache) / MB, "cgroup v1")
    # Inside a container the own group is often mounted as the root of the hierarchy (Docker, Kubernetes).
    limit, used = _read(root / "memory.max"), _read(root / "memory.current")
    if limit and limit.isdigit() and used and used.isdigit():
        return Room(int(limit) / MB, (int(used) - _stat(root / "memory.stat", "inactive_file")) / MB, "cgroup v2")
    limit, used = _read(root / "memory" / "memory.limit_in_bytes"), _read(root / "memory" / "memory.usage_in_bytes")
    if limit and limit.isdigit() and int(limit) < _UNLIMITED and used and used.isdigit():
        cache = _stat(root / "memory" / "memory.stat", "total_inactive_file")
        return Room(min(int(limit) / MB, host.limit_mb), (int(used) - cache) / MB, "cgroup v1")
    limit = os.environ.get("MEM_LIMIT", "").strip()  # JupyterHub's spawners (and so Binder) set it, in bytes
    if limit.isdigit() and 0 < int(limit) < host.limit_mb * MB:
        return Room(int(limit) / MB, _all_rss_mb(), "MEM_LIMIT")
    return host


def _all_rss_mb() -> float:
    """The resident memory of every process this one can see (in a container: the container's)."""
    import psutil

    total = 0
    for process in psutil.process_iter(["memory_info"]):
        info = process.info.get("memory_info")
        total += info.rss if info is not None else 0
    return total / MB


@lru_cache(maxsize=1)
def needs() -> dict[str, Any]:
    """The course's measured memory needs (written by ``make bench``).

    Returns:
        ``{"notebooks": {name: {"peak_mb", "idle_mb"}}, "training": {model: {batch size: peak MB}}, ...}``.
    """
    path = Path(str(resources.files("stutor") / "resources" / "memory_needs.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def _own_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / MB


def return_freed_memory() -> None:
    """Collect reference cycles and hand freed heap pages back to the operating system.

    A trainer keeps its optimizer state in reference cycles, which only the cyclic garbage
    collector frees; on Linux (glibc), ``malloc_trim`` then returns the freed pages, so that the
    kernel's resident memory falls instead of staying at its peak.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # pragma: no cover - another C library
            pass


# glibc's mallopt parameters: blocks above the threshold get their own mapping, returned on free.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_PROMPT_RETURN_BYTES = 1 << 20


def return_memory_promptly() -> bool:
    """Ask the C library to hand freed memory back to the operating system at once (glibc only).

    By default glibc raises its mapping threshold after the first large free, so later tensors of a
    few megabytes land on the heap and stay there: a kernel's resident memory then sits at its peak
    long after a section is done. Fixing the thresholds at 1 MB gives every larger block its own
    mapping, returned when it is freed. Returns whether the setting took effect.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _PROMPT_RETURN_BYTES)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, _PROMPT_RETURN_BYTES)
        )
    except (OSError, AttributeError):  # pragma: no cover - another C library
        return False


def release(namespace: dict[str, Any], *names: str, verbose: bool = True) -> float:
    """Delete ``names`` from ``namespace`` (a notebook passes ``globals()``) and free their memory.

    For what costs nothing to re-create (a model loaded from disk, a finished trainer): a
    notebook calls it at the end of the section that used them. Checks every name before deleting
    any, so that a typo deletes nothing.

    Args:
        namespace: where the names live, e.g. ``globals()``.
        *names: the variables to drop.
        verbose: print one line with the kernel's memory before and after.

    Returns:
        The megabytes the kernel's resident memory fell by (0 when it did not fall).

    Taught in: notebooks 01, 02, 03, 05 and 07 (the end of a section that loaded a model).
    """
    if not isinstance(namespace, dict):
        raise TypeError(f"namespace must be a dict such as globals(), not {type(namespace).__name__}")
    if not names:
        raise ValueError("name at least one variable to release, e.g. release(globals(), 'model')")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"names are variable names as strings, e.g. 'model', not {type(name).__name__}")
    missing = [name for name in names if name not in namespace]
    if missing:
        raise ValueError(
            f"not defined here: {', '.join(missing)} (nothing was released); check the spelling, "
            "or whether an earlier cell released it already"
        )
    before = _own_rss_mb()
    for name in names:
        del namespace[name]
    return_freed_memory()
    after = _own_rss_mb()
    if verbose:
        print(f"released {', '.join(names)}: this kernel holds {after:,.0f} MB (was {before:,.0f} MB)")
    return max(0.0, before - after)


@dataclass(frozen=True)
class Kernel:
    """Another kernel of this Jupyter server.

    Attributes:
        kernel_id: the kernel's id.
        notebook: the notebook it runs (its path on the server), or ``""``.
        state: ``"idle"``, ``"busy"``, ...
        rss_mb: its resident memory, or None when its process is not visible.
    """

    kernel_id: str
    notebook: str
    state: str
    rss_mb: float | None


def _own_kernel_id() -> str | None:
    try:
        from ipykernel import get_connection_file

        name = Path(get_connection_file()).name
    except (ImportError, RuntimeError, AttributeError):
        return None
    return name.removeprefix("kernel-").removesuffix(".json") if name.startswith("kernel-") else None


def _servers() -> list[dict[str, Any]]:
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:  # pragma: no cover - JupyterLab brings it
        return []
    return list(list_running_servers())


def _api(server: dict[str, Any], path: str, method: str = "GET") -> Any:
    import urllib.request

    url = server["url"].rstrip("/") + "/api/" + path
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {server.get('token', '')}"})
    with urllib.request.urlopen(request, timeout=3) as response:
        body = response.read()
    return json.loads(body) if body else None


def _kernel_rss(kernel_id: str) -> float | None:
    import psutil

    marker = f"kernel-{kernel_id}.json"
    for process in psutil.process_iter(["cmdline", "memory_info"]):
        if any(marker in part for part in process.info.get("cmdline") or []):
            return process.info["memory_info"].rss / MB
    return None


def _server_of(kernel_id: str | None) -> dict[str, Any] | None:
    """The running Jupyter server that started this kernel (None outside one, e.g. under nbval)."""
    if kernel_id is None:
        return None
    for server in _servers():
        try:
            if any(kernel["id"] == kernel_id for kernel in _api(server, "kernels")):
                return server
        except (OSError, ValueError):
            continue
    return None


def other_kernels() -> list[Kernel]:
    """The other kernels of this notebook's Jupyter server, with their notebooks and memory.

    Returns:
        One :class:`Kernel` per other kernel, largest first; empty outside a Jupyter server.
    """
    own = _own_kernel_id()
    server = _server_of(own)
    if server is None:
        return []
    try:
        sessions = _api(server, "sessions")
        kernels = _api(server, "kernels")
    except (OSError, ValueError):
        return []
    notebook_of = {s["kernel"]["id"]: s.get("path", "") for s in sessions if s.get("kernel")}
    found = [
        Kernel(k["id"], notebook_of.get(k["id"], ""), k.get("execution_state", "?"), _kernel_rss(k["id"]))
        for k in kernels
        if k["id"] != own
    ]
    return sorted(found, key=lambda k: -(k.rss_mb or 0.0))


def shut_down_other_kernels(*, include_busy: bool = False) -> None:
    """Shut down this Jupyter server's other idle kernels (their notebooks keep their outputs).

    Call it yourself, in a cell, when the first cell said the notebook will not fit; nothing calls
    it for you. Reopening a notebook later starts a fresh kernel for it.

    Args:
        include_busy: also shut down kernels that are running a cell right now.

    Prints each kernel shut down, with the memory it held, and the memory free afterwards.
    """
    own = _own_kernel_id()
    server = _server_of(own)
    if server is None:
        print("No other kernels found: this notebook does not run in a Jupyter server (or is alone there).")
        return
    stopped = []
    for kernel in other_kernels():
        if kernel.state != "idle" and not include_busy:
            print(f"left running (busy): {kernel.notebook or kernel.kernel_id}")
            continue
        try:
            _api(server, f"kernels/{kernel.kernel_id}", method="DELETE")
        except OSError as error:
            print(f"could not shut down {kernel.notebook or kernel.kernel_id}: {error}")
            continue
        stopped.append(kernel)
        held = f"{kernel.rss_mb:,.0f} MB" if kernel.rss_mb is not None else "memory unknown"
        print(f"shut down the kernel of {kernel.notebook or kernel.kernel_id} ({held})")
    print(f"{len(stopped)} kernel(s) shut down; {room().free_mb:,.0f} MB free now. Run this notebook again.")


def notebook_need_mb(notebook: str) -> float | None:
    """The measured peak of a notebook's kernel (``make bench``), or None when it was not measured."""
    entry = needs()["notebooks"].get(Path(notebook).stem)
    return None if entry is None else float(entry["peak_mb"])


def check_room(notebook: str, *, measured: Room | None = None, own_mb: float | None = None) -> bool:
    """Say, before any model loads, whether this notebook will fit in the memory left.

    Prints nothing when it fits (and :func:`stutor.runtime.configure` does not call it in quiet mode:
    tests and committed outputs must not record the state of the machine that ran them). Otherwise
    prints the need, what is left under the limit, the other kernels of this server by notebook,
    and the two ways to free memory.

    Args:
        notebook: the notebook's name, e.g. ``"05_choosing_a_loss"``.
        measured: the memory state (default: :func:`room` now).
        own_mb: what this kernel holds already (default: measured).

    Returns:
        True when the notebook fits (or was never measured).
    """
    need = notebook_need_mb(notebook)
    if need is None:
        return True
    state = measured or room()
    more = max(0.0, need - (_own_rss_mb() if own_mb is None else own_mb))
    if more <= state.free_mb:
        return True
    lines = [
        f"⚠ Memory: notebook {Path(notebook).stem} will not fit. Its kernel needs about {need:,.0f} MB at its peak "
        f"(measured by make bench), {more:,.0f} MB more than it holds now, but only {state.free_mb:,.0f} MB are "
        f"left under this machine's {state.limit_mb:,.0f} MB limit ({state.source}). Running on, the kernel would "
        "die without a word."
    ]
    others = other_kernels()
    if others:
        lines.append("What holds the memory: the other kernels of this Jupyter server")
        for kernel in others:
            held = f"{kernel.rss_mb:7,.0f} MB" if kernel.rss_mb is not None else "      ? MB"
            lines.append(f"  {held}  {kernel.state:5}  {kernel.notebook or kernel.kernel_id}")
    lines.append(
        "Free it, then run this notebook again: run `from stutor import memory; memory.shut_down_other_kernels()` "
        "in a new cell (it shuts down this server's other idle kernels; their notebooks keep their outputs), "
        f"or use {MENU_PATH}."
    )
    print("\n".join(lines))
    return False


def training_room(model: str, *, measured: Room | None = None) -> tuple[float, Room] | None:
    """Whether training ``model`` fits, from the course's training-memory benchmark.

    Args:
        model: a model name of ``needs()["training"]`` (e.g. ``"distilroberta-base"``).
        measured: the memory state (default: :func:`room` now).

    Returns:
        None when it fits (or the model was never measured); else ``(the need in MB at the smallest
        measured batch, the Room)``.
    """
    table = needs().get("training", {}).get(model)
    if not table:
        return None
    need = min(float(mb) for mb in table.values())
    state = measured or room()
    return None if need <= state.free_mb + _own_rss_mb() else (need, state)
