"""A person's view: JupyterLab in headless Chromium runs notebook 01 through the menus.

The test starts JupyterLab from this environment on a free local port with a random token,
opens a copy of notebook 01 whose outputs were removed (so every output on the page comes from
this run), clicks Run → Run All Cells, waits for the kernel to go idle, then checks the page: no
error output, the expected result text, the heatmap. A screenshot is saved to
``outputs/browser/``. Chromium is Debian's ``chromium`` package (``make test`` installs it when it
can); without it the test skips, except in CI (``CI=true``), where it fails. Under ``make test``
(``--warm-kernels``) the page's kernel is forked from the tests' warm server (``tests/warm_kernel.py``):
the same IPython kernel, without importing torch and sentence-transformers again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import warm_kernel

ROOT = Path(__file__).resolve().parents[1]
# JupyterLab and Chromium started as make binder starts them (benchmarks/lab_browser.py, a script folder).
_SPEC = importlib.util.spec_from_file_location("lab_browser", ROOT / "benchmarks" / "lab_browser.py")
browser = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(browser)
NOTEBOOK = "01_sentence_transformer_anatomy.ipynb"
SCREENSHOT = ROOT / "outputs" / "browser" / "01_sentence_transformer_anatomy.png"
# Text that only a successful run of notebook 01 prints (its outputs were cleared first).
EXPECTED = [
    "Using all-MiniLM-L6-v2 (embedded)",
    "token_embeddings: (1, 6, 384)",
    "sentence_embedding: (1, 384)",
    "identical: True",
    "mean similarity among paraphrases",
]
SERVER_START_S = 40
RUN_ALL_S = 60


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} CI must run the browser test: `make test` installs it (see the Makefile).")
    pytest.skip(reason)


def _chromium() -> str:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "/usr/bin/chromium"):
        path = shutil.which(name) if name else None
        if path:
            return path
    _missing("Chromium not found: install Debian's `chromium` package (`apt-get install chromium`) or set CHROMIUM.")
    raise AssertionError("unreachable")


@pytest.fixture()
def lab(tmp_path):
    """A JupyterLab server on a free port, serving a folder with notebook 01 (outputs removed)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    browser.copy_without_outputs(ROOT / "notebooks" / NOTEBOOK, folder / NOTEBOOK)
    port, token = browser.free_port(), secrets.token_hex(16)
    extra = {}
    server = os.environ.get(warm_kernel.SERVER_ENV)
    if server:  # `make test`: the page's kernel forks from the tests' warm server, as the notebooks' kernels do
        warm_kernel.write_kernel_spec(tmp_path / "kernels-warm", server, name="python3")
        extra["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(tmp_path / "kernels-warm"), os.environ.get("JUPYTER_PATH")])
        )
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(
        browser.lab_command(port, token, folder),
        env=browser.lab_environment(tmp_path, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        browser.wait_for_server(process, f"http://127.0.0.1:{port}", token, SERVER_START_S, log=tmp_path / "lab.log")
        yield f"http://127.0.0.1:{port}", token, tmp_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()


def _kernels(url: str, token: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=5) as reply:
        return json.loads(reply.read())


def _wait_for_kernel(page, url: str, token: str) -> None:
    """Wait until the page's kernel has started, is idle and has the page connected to it."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        _dismiss_dialogs(page)
        kernels = _kernels(url, token)
        if any(k["execution_state"] == "idle" and k["connections"] >= 1 for k in kernels):
            return
        time.sleep(0.1)
    raise AssertionError(f"no kernel was connected and idle within {SERVER_START_S} s: {_kernels(url, token)}")


def _dismiss_dialogs(page) -> None:
    """Accept any modal dialog (kernel choice, trust) so that it cannot block the run."""
    for button in page.locator(".jp-Dialog .jp-mod-accept").all():
        if button.is_visible():
            button.click()


def test_notebook_01_runs_in_jupyterlab_in_a_real_browser(lab):
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed: run `make setup` (it installs the `dev` extra).")
    url, token, tmp = lab
    code_cells = sum(
        1
        for cell in json.loads((tmp / "notebooks" / NOTEBOOK).read_text())["cells"]
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip()
    )

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),  # a fresh user-data directory
            executable_path=chromium,
            headless=True,
            args=browser.CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1600},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            _wait_for_kernel(page, url, token)

            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator("#jp-mainmenu-run .lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()

            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt")
            errors = page.locator(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
            )
            done = [f"[{n}]:" for n in range(1, code_cells + 1)]
            deadline = time.monotonic() + RUN_ALL_S
            counts: list[str] = []
            while time.monotonic() < deadline:
                _dismiss_dialogs(page)
                counts = [text.strip() for text in prompts.all_inner_texts()]
                idle = all(kernel["execution_state"] == "idle" for kernel in _kernels(url, token))
                if idle and (counts == done or errors.count()):
                    break
                time.sleep(0.1)
            shown = page.locator(".jp-OutputArea-output img")
            shown = shown.last if shown.count() else page.locator(".jp-CodeCell").last
            shown.evaluate("e => e.scrollIntoView({block: 'center'})")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

            assert errors.count() == 0, f"error output in the page: {errors.all_inner_texts()[:3]}; see {SCREENSHOT}"
            assert counts == done, f"not every cell ran within {RUN_ALL_S} s: prompts {counts}; see {SCREENSHOT}"
            text = page.locator(".jp-Notebook").inner_text()
            for expected in EXPECTED:
                assert expected in text, f"{expected!r} is not on the page; see {SCREENSHOT}"
            assert page.locator(".jp-OutputArea-output img").count() >= 1, "the similarity heatmap is missing"
        finally:
            context.close()
