"""``make binder``: the course in a Binder-sized container, the way a learner uses it.

Binder gives a learner 2 GiB for JupyterLab and every kernel together. This script builds that
container on this machine and walks through the course in a real browser:

1. a cgroup v1 memory group (``stutor-binder-<pid>``, below this process's own memory group) with
   ``memory.limit_in_bytes`` = 2 GiB (and ``memory.memsw.limit_in_bytes``, so it cannot swap around the
   limit); JupyterLab enters it before it starts, so the kernels it starts inherit it, and finds the
   limit in ``MEM_LIMIT`` too, as JupyterHub's spawners set it on Binder. Inside, ``/proc/self/cgroup``
   names the group under the host's ``/sys/fs/cgroup/memory``; ``--container-view`` instead runs the
   server in its own mount namespace with the group bind-mounted on ``/sys/fs/cgroup/memory``, as
   Docker and Kubernetes show it to a container on cgroup v1 (``/proc/self/cgroup`` then names a
   path that does not exist inside). The notebooks are a temporary copy of ``notebooks/`` with their
   outputs removed: the committed files are never touched.
2. the chapters (01, 02, ...) are opened in order in headless Chromium, each in a new tab, and run with
   Run → Run All Cells. Earlier tabs and their kernels stay open, as learners leave them. Each
   notebook ends completed (kernel idle, every code cell numbered), died (its kernel was killed:
   "Kernel Restarting" dialog, the kernel restarting or dead, or its process replaced), error (a cell
   raised an exception, where Run All stops) or timed out.
3. a notebook whose set-up cell (the first code cell that calls ``runtime.configure(``; the first
   code cell before it may be Colab's install cell) printed the memory warning ("will not fit")
   gets the fix it offers, typed as a learner would: a new cell ``from stutor import memory;
   memory.shut_down_other_kernels()`` run below the warning (then deleted), then Kernel → Restart
   Kernel and Run All Cells.

It prints a table, writes ``benchmarks/results/binder.json`` (``outputs/binder/binder.json`` for a
part of the course, another limit or ``--source``, or a rehearsal of the fix with ``--warning-text``
and ``--fix-code``) and saves a screenshot per notebook to ``outputs/binder/``. Exit code 0 when
every notebook completed, directly or after the fix; 1 otherwise (a notebook that died without the
warning is the failure this check exists for). Where no cgroup v1 memory group can be made (not
root, cgroup v2 only, read-only), or Chromium or Playwright is missing, it prints one ``skip: ...``
line and exits 0, or 1 when ``CI`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab_browser import CHROMIUM_FLAGS, copy_without_outputs, free_port, lab_command, lab_environment, wait_for_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = HERE / "results" / "binder.json"
SCREENSHOTS = ROOT / "outputs" / "binder"
CGROUP_MOUNT = Path("/sys/fs/cgroup/memory")
LIMIT_BYTES = 2 * 1024**3  # Binder's memory limit for the whole container
WARNING_TEXT = "will not fit"  # printed by a notebook's first cell when its memory need exceeds what is left
FIX_CODE = "from stutor import memory; memory.shut_down_other_kernels()"
DEATH_TEXTS = ("Kernel Restarting", "appears to have died")
NOTEBOOK_TIMEOUT_S = 180
SERVER_START_S = 60
KERNEL_START_S = 120
POLL_S = 0.5
MB = 1024**2
# Per code cell: its prompt ("[3]:", "[*]:", "[ ]:") and the last exception line of its error or stderr outputs.
CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell => {
    const outputs = cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type*="error"], .jp-OutputArea-output[data-mime-type*="stderr"]');
    const lines = Array.from(outputs).flatMap(o => o.innerText.split('\\n'))
        .filter(line => /^[A-Za-z_.]*(Error|Exception|Interrupt)\\b/.test(line.trim()));
    return [cell.querySelector('.jp-InputArea-prompt')?.innerText.trim() || '', lines.pop()?.trim() || ''];
})"""
KERNEL_FILE = re.compile(r"kernel-([0-9a-f-]+)\.json$")


class Skip(Exception):
    """This machine cannot run the check (the message says why)."""


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


# --- the container: a cgroup v1 memory group -------------------------------------------------------------------


@dataclass
class MemoryGroup:
    """A cgroup v1 memory group with a hard limit (and no swap around it)."""

    path: Path

    @classmethod
    def create(cls, limit: int) -> MemoryGroup:
        """Make ``stutor-binder-<pid>`` below this process's memory group, limited to ``limit`` bytes.

        Raises:
            Skip: not root, no cgroup v1 memory controller, or the group cannot be made or limited.
        """
        if os.geteuid() != 0:
            raise Skip("not root: a cgroup v1 memory group needs root")
        if not (CGROUP_MOUNT / "memory.limit_in_bytes").is_file():
            raise Skip(f"no cgroup v1 memory controller at {CGROUP_MOUNT} (cgroup v2 only?)")
        parent = CGROUP_MOUNT
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, relative = line.split(":", 2)
            if "memory" in controllers.split(",") and (CGROUP_MOUNT / relative.lstrip("/")).is_dir():
                parent = CGROUP_MOUNT / relative.lstrip("/")
        group = cls(parent / f"stutor-binder-{os.getpid()}")
        try:
            group.path.mkdir()
        except OSError as error:
            raise Skip(f"cannot create the cgroup v1 memory group {group.path}: {error.strerror}") from error
        try:
            group.write("memory.limit_in_bytes", limit)  # the memory limit first: memsw may not go below it
            if (group.path / "memory.memsw.limit_in_bytes").is_file():
                group.write("memory.memsw.limit_in_bytes", limit)
            if group.read("memory.limit_in_bytes") != limit:
                raise OSError(0, f"memory.limit_in_bytes reads {group.read('memory.limit_in_bytes')}")
        except OSError as error:
            group.remove()
            raise Skip(f"cannot limit {group.path} to {limit} bytes: {error.strerror}") from error
        return group

    def write(self, name: str, value: int) -> None:
        (self.path / name).write_text(str(value))

    def read(self, name: str) -> int:
        return int((self.path / name).read_text().split()[0])

    def mb(self, name: str) -> float:
        return self.read(name) / MB

    def oom_kills(self) -> int:
        """Processes the kernel's OOM killer killed in this group so far."""
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return self.read("memory.failcnt")  # older kernels: how often the limit was hit

    def pids(self) -> list[int]:
        return [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]

    def enter(self) -> None:
        """Move the calling process into the group (a ``preexec_fn``: runs in the child before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        """Kill what is left in the group (only processes this script started), then remove it."""
        for _ in range(50):
            pids = self.pids() if self.path.is_dir() else []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.2)
        print(f"warning: could not remove {self.path}", file=sys.stderr)


# --- JupyterLab -------------------------------------------------------------------------------------------------


@dataclass
class Lab:
    """A JupyterLab server inside the memory group."""

    process: subprocess.Popen
    folder: Path  # the notebook directory (a temporary copy)
    url: str
    token: str
    container_view: bool  # /sys/fs/cgroup/memory inside the server shows the group (as in a container)

    def api(self, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            text = reply.read()
        return json.loads(text) if text else None

    def kernel_of(self, notebook: str) -> dict[str, Any] | None:
        """The kernel model (id, execution_state, connections) of the session of ``notebook``."""
        for session in self.api("/api/sessions"):
            if session.get("path") == notebook and session.get("kernel"):
                return session["kernel"]
        return None

    def kernels(self) -> dict[str, dict[str, Any]]:
        return {kernel["id"]: kernel for kernel in self.api("/api/kernels")}


def _copy_notebooks(source: Path, folder: Path) -> list[str]:
    """Copy ``source`` (notebooks/) into ``folder``, the chapters' outputs removed; return the chapters in order."""
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    chapters = sorted(path.name for path in folder.glob("[0-9][0-9]_*.ipynb"))
    for name in chapters:
        copy_without_outputs(folder / name, folder / name)
    return chapters


def binder_environment(tmp: Path, limit: int) -> dict[str, str]:
    """The server's environment on a Binder: its memory limit in ``MEM_LIMIT``, as JupyterHub's spawners
    set it, and not quiet, as a learner's kernel is (quiet mode skips the first cell's memory check)."""
    return lab_environment(tmp, MEM_LIMIT=str(limit), STUTOR_QUIET="0")


def start_lab(group: MemoryGroup, folder: Path, tmp: Path, container_view: bool) -> Lab:
    """Start JupyterLab on a free loopback port, in ``group`` from its first instruction.

    Args:
        container_view: bind-mount the group on /sys/fs/cgroup/memory in a private mount namespace.
    """
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command(port, token, folder)
    unshare = shutil.which("unshare")
    if container_view and unshare:  # a private mount namespace in which the group is /sys/fs/cgroup/memory
        script = f'mount --bind "$0" {CGROUP_MOUNT} || echo "binder: no container view of the cgroup" >&2; exec "$@"'
        command = [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", script, str(group.path), *command]
    log = (tmp / "lab.log").open("w")
    process = subprocess.Popen(
        command,
        env=binder_environment(tmp, group.read("memory.limit_in_bytes")),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=group.enter,  # nothing else runs threads yet; the server must start inside
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_server(process, url, token, SERVER_START_S, log=tmp / "lab.log")
    if process.pid not in group.pids():
        raise RuntimeError(f"the JupyterLab server (pid {process.pid}) is not in {group.path}")
    mounts = Path(f"/proc/{process.pid}/mountinfo").read_text().splitlines()
    root = "/" + str(group.path.relative_to(CGROUP_MOUNT))
    view = any(line.split()[3] == root and line.split()[4] == str(CGROUP_MOUNT) for line in mounts)
    return Lab(process, folder, url, token, view)


def stop_lab(lab: Lab) -> None:
    """Stop the server (it shuts its kernels down); kill its process group if it does not exit."""
    if lab.process.poll() is None:
        os.killpg(lab.process.pid, signal.SIGTERM)
        try:
            lab.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait(timeout=5)


def kernel_pids(group: MemoryGroup) -> dict[str, int]:
    """Kernel id → pid of each kernel process in the group (from its connection file's name)."""
    found = {}
    for pid in group.pids():
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for argument in arguments:
            match = KERNEL_FILE.search(argument.decode(errors="replace"))
            if match:
                found[match.group(1)] = pid
    return found


# --- one notebook in the browser --------------------------------------------------------------------------------


@dataclass
class Options:
    """What counts as the memory warning, what a learner types to fix it (to rehearse the fix), the timeout."""

    warning_text: str = WARNING_TEXT
    fix_code: str = FIX_CODE
    timeout_s: float = NOTEBOOK_TIMEOUT_S


@dataclass
class Run:
    """One Run All of a notebook: how it ended and what the container held after it."""

    outcome: str  # completed | died | error (a cell raised) | timed out
    seconds: float
    detail: str
    usage_mb: float
    peak_mb: float
    oom_kills: int
    others_died: list[str] = field(default_factory=list)


@dataclass
class Row:
    notebook: str
    first: Run
    warning: bool
    setup_cell: int  # the code cell (1-based) that prints the memory warning
    setup_cell_output: str
    fix_output: str = ""
    fix: Run | None = None

    @property
    def ok(self) -> bool:
        return self.first.outcome == "completed" or (self.fix is not None and self.fix.outcome == "completed")

    @property
    def verdict(self) -> str:
        if self.ok:
            return "ok"
        if self.first.outcome == "died" and not self.warning:
            return "died without warning"
        if self.first.outcome == "error" and self.fix is None:
            return "a cell raised an error"
        if self.fix is None:
            return f"{self.first.outcome}, warning shown but no fix ran" if self.warning else self.first.outcome
        return f"{self.first.outcome}; after the fix: {self.fix.outcome}"


def dialogs(page: Any) -> list[str]:
    """Texts of the open JupyterLab dialogs of ``page``; each is accepted so that it cannot block the run."""
    texts = []
    for dialog in page.locator(".jp-Dialog").all():
        try:
            if not dialog.is_visible():
                continue
            texts.append(" ".join(dialog.inner_text(timeout=2_000).split()))
            button = dialog.locator(".jp-mod-accept")
            if button.count():
                button.first.click(timeout=5_000)
        except Exception:  # a dialog that closed while we read it
            continue
    return texts


def _menu(page: Any, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(f"#jp-mainmenu-{menu.lower()} .lm-Menu-itemLabel").get_by_text(item).first.click()


def _wait_for_kernel(page: Any, lab: Lab, notebook: str) -> str:
    """Wait until the notebook's kernel has started, is idle and has the page connected; return its id."""
    deadline = time.monotonic() + KERNEL_START_S
    while time.monotonic() < deadline:
        dialogs(page)
        kernel = lab.kernel_of(notebook)
        if kernel and kernel["execution_state"] == "idle" and kernel.get("connections", 0) >= 1:
            return kernel["id"]
        time.sleep(POLL_S)
    raise RuntimeError(f"{notebook}: no kernel was connected and idle within {KERNEL_START_S} s")


def watch(
    page: Any,
    lab: Lab,
    group: MemoryGroup,
    kernel_id: str,
    expected_cells: int,
    start: float,
    started: bool,
    names: dict[str, str],
    timeout_s: float,
) -> Run:
    """Follow a Run All until the notebook completes, its kernel dies or the time runs out.

    Args:
        expected_cells: how many code cells must show an execution count.
        start: when the run began (monotonic).
        started: whether the prompts already belong to this run (else wait to see it busy first).
        names: kernel id → notebook of the other open notebooks.
    """
    pids = kernel_pids(group)
    own_pid = pids.get(kernel_id)
    others = {kid: pid for kid, pid in pids.items() if kid != kernel_id}
    others_died: list[str] = []
    oom_before = group.oom_kills()
    outcome, detail = "timed out", f"not complete within {timeout_s:.0f} s"
    where, running = "", False  # running: this run was seen busy or with queued cells
    prompts: list[str] = []
    state = "?"
    while time.monotonic() - start < timeout_s:
        cells = page.evaluate(CELLS_JS)  # before the dialogs: after a death JupyterLab clears the queued cells
        prompts = [prompt for prompt, _ in cells]
        numbered = sum(1 for prompt in prompts if re.fullmatch(r"\[\d+\]:", prompt))
        if "[*]:" in prompts:
            where = f" (in code cell {prompts.index('[*]:') + 1} of {len(prompts)}; {numbered} had run)"
        died = [text for text in dialogs(page) if any(mark in text for mark in DEATH_TEXTS)]
        kernels = lab.kernels()
        state = kernels.get(kernel_id, {}).get("execution_state", "gone")
        pids = kernel_pids(group)
        for kid, pid in list(others.items()):
            if kid in kernels and pids.get(kid, pid) != pid:  # replaced: killed, then restarted by the server
                others_died.append(names.get(kid, kid))
                others[kid] = pids[kid]
        if own_pid is None:
            own_pid = pids.get(kernel_id)
        if died:
            outcome, detail = "died", died[0][:200] + where
            break
        if state in {"dead", "restarting", "autorestarting", "gone"}:
            outcome, detail = "died", f"kernel state {state}{where}"
            break
        if own_pid is not None and pids.get(kernel_id) != own_pid:
            outcome, detail = "died", f"kernel process {own_pid} was killed{where}"
            break
        started = started or state == "busy" or "[*]:" in prompts
        if started and state == "idle" and "[*]:" not in prompts and numbered >= expected_cells:
            outcome, detail = "completed", f"{numbered} code cells ran"
            break
        running = running or state == "busy" or "[*]:" in prompts
        if running and state == "idle" and "[*]:" not in prompts:  # Run All stopped short: a cell raised
            ran = [n for n, prompt in enumerate(prompts, 1) if re.fullmatch(r"\[\d+\]:", prompt)]
            last = max(ran, default=0)
            error = (cells[last - 1][1] if last else "")[:200] or "no error text"
            outcome, detail = "error", f"stopped after code cell {last} of {len(cells)}: {error}"
            break
        time.sleep(POLL_S)
    seconds = time.monotonic() - start
    if outcome == "timed out":
        detail += f"; kernel {state}, prompts {' '.join(prompts)}"
    if outcome == "died":
        dialogs(page)
    return Run(
        outcome=outcome,
        seconds=round(seconds, 1),
        detail=detail,
        usage_mb=round(group.mb("memory.usage_in_bytes")),
        peak_mb=round(group.mb("memory.max_usage_in_bytes")),
        oom_kills=group.oom_kills() - oom_before,
        others_died=others_died,
    )


def _cell_output(page: Any, index: int) -> str:
    area = page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-OutputArea")
    return area.inner_text(timeout=5_000).strip() if area.count() else ""


def setup_cell(code: list[dict[str, Any]]) -> int:
    """Index of the code cell whose output carries the memory warning: the first that calls ``configure(``.

    The first code cell of a chapter may be an install cell for Colab that does nothing elsewhere; the
    check runs in ``runtime.configure(notebook=...)``. Without such a cell: the first code cell.
    """
    return next((i for i, cell in enumerate(code) if "configure(" in "".join(cell["source"])), 0)


def _screenshot(page: Any, path: Path, focus: int | None = None) -> None:
    """Save the page with code cell ``focus`` in view, else the cell that was running, else the last that ran."""
    page.evaluate(
        """(focus) => {
        const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
        const prompt = c => c.querySelector('.jp-InputArea-prompt')?.innerText || '';
        const running = cells.find(c => prompt(c).includes('[*]'));
        const ran = cells.filter(c => /\\[\\d+\\]/.test(prompt(c)));
        const cell = focus !== null ? cells[focus] : running || ran[ran.length - 1] || cells[0];
        cell?.scrollIntoView({block: 'center'});
    }""",
        focus,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(path))
    except Exception as error:  # a screenshot only helps debugging: never lose the measurement for it
        print(f"warning: no screenshot {path.name}: {type(error).__name__}", file=sys.stderr)


def apply_fix(page: Any, lab: Lab, kernel_id: str, fix_code: str, below: int) -> str:
    """Type and run the offered fix in a new cell below the warning, as a learner would; then delete the cell.

    Returns:
        The scratch cell's output.
    """
    cells = page.locator(".jp-Notebook .jp-Cell")
    before = cells.count()
    page.locator(".jp-Notebook .jp-CodeCell").nth(below).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # command mode: insert a cell below
    page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length > {before}")
    page.keyboard.press("Enter")  # edit the new cell
    page.keyboard.type(fix_code)
    scratch = page.locator(".jp-Notebook .jp-Cell.jp-mod-active")
    scratch_prompt = scratch.locator(".jp-InputPrompt")
    page.keyboard.press("Control+Enter")  # run it, stay on it
    deadline = time.monotonic() + KERNEL_START_S
    while time.monotonic() < deadline:
        dialogs(page)
        prompt = scratch_prompt.inner_text().strip()
        state = lab.kernels().get(kernel_id, {}).get("execution_state")
        if re.fullmatch(r"\[\d+\]:", prompt) and state == "idle":
            break
        time.sleep(POLL_S)
    output = scratch.locator(".jp-OutputArea").inner_text().strip()
    scratch_prompt.click()
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    page.keyboard.press("d")  # command mode: delete the cell
    try:
        page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {before}", timeout=5_000)
    except Exception:  # the scratch cell stays; it is counted as one more code cell
        output += " (scratch cell not deleted)"
    return output


def fix_and_rerun(
    page: Any,
    lab: Lab,
    group: MemoryGroup,
    notebook: str,
    kernel_id: str,
    code_total: int,
    code_cells: int,
    names: dict[str, str],
    options: Options,
) -> tuple[str, Run]:
    """Run the offered fix in a new cell, then Kernel → Restart Kernel and Run All Cells; follow that run.

    Returns:
        The fix cell's output and the second run.
    """
    if lab.kernels().get(kernel_id, {}).get("execution_state") == "busy":  # timed out: stop it, as a learner would
        _menu(page, "Kernel", "Interrupt Kernel")
    _wait_for_kernel(page, lab, notebook)  # after a death the server restarts the kernel
    setup = setup_cell(
        [c for c in json.loads((lab.folder / notebook).read_text())["cells"] if c["cell_type"] == "code"]
    )
    output = apply_fix(page, lab, kernel_id, options.fix_code, setup)[:2000]
    extra = len(page.evaluate(CELLS_JS)) - code_total  # a scratch cell that could not be deleted
    old_pid = kernel_pids(group).get(kernel_id)
    group.write("memory.max_usage_in_bytes", 0)
    start = time.monotonic()
    _menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog .jp-mod-accept").first.click()  # "Restart Kernel?" → Confirm
    while time.monotonic() - start < KERNEL_START_S:  # the old kernel process is replaced by a fresh one
        state = lab.kernels().get(kernel_id, {}).get("execution_state")
        if kernel_pids(group).get(kernel_id) not in {None, old_pid} and state in {"idle", "busy"}:
            break
        time.sleep(POLL_S)
    rerun = watch(
        page, lab, group, kernel_id, code_cells + extra, start, started=False, names=names, timeout_s=options.timeout_s
    )
    return output, rerun


def run_notebook(
    context: Any, lab: Lab, group: MemoryGroup, notebook: str, names: dict[str, str], options: Options
) -> Row:
    """Open ``notebook`` in a new tab, Run All Cells, and (on a memory warning) apply the fix and run it again."""
    code = [c for c in json.loads((lab.folder / notebook).read_text())["cells"] if c["cell_type"] == "code"]
    code_cells = sum(1 for cell in code if "".join(cell["source"]).strip())  # empty cells get no number
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{lab.url}/lab/tree/{notebook}?token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    kernel_id = _wait_for_kernel(page, lab, notebook)
    group.write("memory.max_usage_in_bytes", 0)  # the peak from here on
    start = time.monotonic()
    _menu(page, "Run", "Run All Cells")
    first = watch(
        page, lab, group, kernel_id, code_cells, start, started=True, names=names, timeout_s=options.timeout_s
    )
    names[kernel_id] = notebook
    setup = setup_cell(code)
    output = _cell_output(page, setup)
    row = Row(notebook, first, options.warning_text.lower() in output.lower(), setup + 1, output[:2000])
    _screenshot(page, SCREENSHOTS / f"{Path(notebook).stem}.png", setup if row.warning else None)
    if row.warning:
        start = time.monotonic()
        try:
            row.fix_output, row.fix = fix_and_rerun(
                page, lab, group, notebook, kernel_id, len(code), code_cells, names, options
            )
        except Exception as error:  # keep the first run's record
            row.fix = _failed_row(notebook, group, error, start).first
        _screenshot(page, SCREENSHOTS / f"{Path(notebook).stem}_after_fix.png")
    return row


# --- report -----------------------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    header = f"{'notebook':<44} {'outcome':<10} {'seconds':>7}  {'warning':<7} {'cgroup MB after (peak)':>22}"
    print(f"{header}  {'after the fix':<22} verdict")
    for row in rows:
        run = row.first
        after = "-" if row.fix is None else f"{row.fix.outcome} {row.fix.seconds:.0f} s"
        memory = f"{run.usage_mb:,.0f} ({run.peak_mb:,.0f})"
        print(
            f"{Path(row.notebook).stem:<44} {run.outcome:<10} {run.seconds:>7.1f}  {'yes' if row.warning else 'no':<7}"
            f" {memory:>22}  {after:<22} {row.verdict}"
        )


def _chromium() -> str:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "/usr/bin/chromium"):
        path = shutil.which(name) if name else None
        if path:
            return path
    raise Skip("Chromium not found: install Debian's `chromium` package (`apt-get install chromium`) or set CHROMIUM")


def _failed_row(notebook: str, group: MemoryGroup, error: Exception, start: float) -> Row:
    """A notebook the harness could not follow (the page or the server did not answer)."""
    message = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    run = Run("harness error", round(time.monotonic() - start, 1), message, group.mb("memory.usage_in_bytes"), 0.0, 0)
    return Row(notebook, run, False, 0, "")


def run_course(
    group: MemoryGroup, chromium: str, source: Path, only: list[str] | None, options: Options, container_view: bool
) -> tuple[list[Row], bool]:
    """Start JupyterLab in ``group`` and run the chapters one after another in Chromium."""
    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="stutor-binder-") as temp:
        tmp = Path(temp)
        chapters = _copy_notebooks(source, tmp / "notebooks")
        if only:
            chapters = [name for name in chapters if any(name.startswith(prefix) for prefix in only)]
        lab = start_lab(group, tmp / "notebooks", tmp, container_view)
        try:
            view = ", /sys/fs/cgroup/memory inside shows it" if lab.container_view else ""
            limit = group.mb("memory.limit_in_bytes")
            print(f"JupyterLab (pid {lab.process.pid}) in {group.path}, limit {limit:.0f} MB{view}", flush=True)
            names: dict[str, str] = {}
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    str(tmp / "chromium-profile"),
                    executable_path=chromium,
                    headless=True,
                    args=CHROMIUM_FLAGS,
                    viewport={"width": 1280, "height": 1600},
                )
                try:
                    for notebook in chapters:
                        start = time.monotonic()
                        try:
                            row = run_notebook(context, lab, group, notebook, names, options)
                        except Exception as error:  # record it and go on: the next notebooks still tell something
                            row = _failed_row(notebook, group, error, start)
                        rows.append(row)
                        print(_progress(row), flush=True)
                finally:
                    context.close()
        finally:
            stop_lab(lab)
    return rows, lab.container_view


def _progress(row: Row) -> str:
    line = f"{row.notebook}: {row.first.outcome} in {row.first.seconds:.0f} s ({row.first.detail})"
    if row.warning:
        line += "; memory warning shown"
    if row.first.others_died:
        line += f"; other kernels killed meanwhile: {', '.join(row.first.others_died)}"
    if row.fix:
        line += f"; after the fix: {row.fix.outcome} in {row.fix.seconds:.0f} s ({row.fix.detail})"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=NOTEBOOKS, help="the notebook folder (notebooks/)")
    parser.add_argument("--notebooks", nargs="*", default=None, help="only these (prefixes such as 01 05)")
    parser.add_argument("--limit-mb", type=int, default=LIMIT_BYTES // MB, help="memory limit (default 2048)")
    parser.add_argument("--timeout", type=float, default=NOTEBOOK_TIMEOUT_S, help="seconds per Run All (180)")
    parser.add_argument("--container-view", action="store_true", help="show the group as a v1 container sees it")
    parser.add_argument("--warning-text", default=WARNING_TEXT, help="to rehearse the fix: text that counts as warning")
    parser.add_argument("--fix-code", default=FIX_CODE, help="to rehearse the fix: the line typed into the new cell")
    args = parser.parse_args()
    try:
        chromium = _chromium()
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as error:
            raise Skip("Playwright is not installed: run `make setup` (the `dev` extra)") from error
        group = MemoryGroup.create(args.limit_mb * MB)
    except Skip as reason:
        print(f"skip: {reason}")
        return 1 if _ci() else 0

    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    began, load = time.monotonic(), os.getloadavg()[0]
    try:
        options = Options(args.warning_text, args.fix_code, args.timeout)
        rows, container_view = run_course(group, chromium, args.source, args.notebooks, options, args.container_view)
    finally:
        group.remove()
    total = time.monotonic() - began

    print()
    print_table(rows)
    # Only the course as committed, in Binder's 2 GB, writes benchmarks/results/; a rehearsal or a part of it does not.
    default = args.source == NOTEBOOKS and not args.notebooks and args.limit_mb == LIMIT_BYTES // MB
    rehearsal = (options.warning_text, options.fix_code) != (WARNING_TEXT, FIX_CODE)
    results = RESULTS if default and not args.container_view and not rehearsal else SCREENSHOTS / "binder.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "limit_mb": args.limit_mb,
        "container_view": container_view,
        "seconds": round(total, 1),
        "machine": {"cpus": os.cpu_count(), "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)]},
        "notebooks": [{**asdict(row), "ok": row.ok, "verdict": row.verdict} for row in rows],
    }
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    saved = f"saved {results.relative_to(ROOT)}; screenshots in {SCREENSHOTS.relative_to(ROOT)}/"
    print(f"\n{len(rows)} notebooks in {total:.0f} s; {saved}")
    failed = [row for row in rows if not row.ok]
    if failed:
        for row in failed:
            run = row.first if row.fix is None else row.fix
            print(f"failed: {Path(row.notebook).stem}: {row.verdict} ({run.detail})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
