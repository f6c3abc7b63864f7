"""stutor.memory: the container limit (cgroup v2, v1, host), the first-cell warning, other kernels, the model choice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stutor import memory, models

MIB = 2**20


def _proc(tmp_path: Path, cgroup_line: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup_line + "\n")
    (proc / "meminfo").write_text("MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n")
    return proc


def test_cgroup_v2_limit_and_usage_without_page_cache(tmp_path):
    proc = _proc(tmp_path, "0::/user.slice/binder")
    group = tmp_path / "cg" / "user.slice" / "binder"
    group.mkdir(parents=True)
    (group / "memory.max").write_text(str(2048 * MIB))
    (group / "memory.current").write_text(str(1500 * MIB))
    (group / "memory.stat").write_text(f"anon 1\ninactive_file {300 * MIB}\n")
    state = memory.room(tmp_path / "cg", proc)
    assert (state.source, state.limit_mb, state.used_mb, state.free_mb) == ("cgroup v2", 2048, 1200, 848)


def test_cgroup_v1_limit_and_unlimited_groups_fall_back_to_the_host(tmp_path):
    proc = _proc(tmp_path, "12:memory:/stutor-binder\n3:cpu,cpuacct:/")
    group = tmp_path / "cg" / "memory" / "stutor-binder"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text(str(2048 * MIB))
    (group / "memory.usage_in_bytes").write_text(str(1024 * MIB))
    (group / "memory.stat").write_text(f"total_inactive_file {24 * MIB}\n")
    state = memory.room(tmp_path / "cg", proc)
    assert (state.source, state.limit_mb, state.used_mb) == ("cgroup v1", 2048, 1000)
    (group / "memory.limit_in_bytes").write_text("9223372036854771712")  # v1's "no limit"
    host = memory.room(tmp_path / "cg", proc)
    assert host.source == "host" and host.limit_mb == pytest.approx(24000000 / 1024)


def test_this_machine_has_a_room():
    state = memory.room()
    assert state.limit_mb > 0 and 0 <= state.used_mb and state.free_mb <= state.limit_mb


def test_every_notebook_has_a_measured_need():
    notebooks = sorted(Path(__file__).resolve().parents[1].glob("notebooks/**/[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        assert memory.notebook_need_mb(path.stem) > 100, path.stem
        first = next(c for c in json.loads(path.read_text())["cells"] if "runtime.configure(" in "".join(c["source"]))
        assert f'runtime.configure(notebook="{path.stem}")' in "".join(first["source"]), path.stem
    assert memory.needs()["training"]["distilroberta-base"]


def test_check_room_is_silent_when_it_fits_and_explains_when_not(monkeypatch, capsys):
    big = memory.Room(limit_mb=24000, used_mb=2000, source="host")
    assert memory.check_room("05_choosing_a_loss", measured=big, own_mb=200)
    assert capsys.readouterr().out == ""
    others = [memory.Kernel("k1", "01_sentence_transformer_anatomy.ipynb", "idle", 452.0)]
    monkeypatch.setattr(memory, "other_kernels", lambda: others)
    small = memory.Room(limit_mb=2048, used_mb=1600, source="cgroup v1")
    assert not memory.check_room("05_choosing_a_loss", measured=small, own_mb=200)
    out = capsys.readouterr().out
    need = memory.notebook_need_mb("05_choosing_a_loss")
    assert f"notebook 05_choosing_a_loss will not fit. Its kernel needs about {need:,.0f} MB" in out
    assert "448 MB are left under this machine's 2,048 MB limit (cgroup v1)" in out
    assert "452 MB  idle   01_sentence_transformer_anatomy.ipynb" in out
    assert "memory.shut_down_other_kernels()" in out and "Running Terminals and Kernels" in out
    assert memory.check_room("99_not_measured", measured=small)  # no measurement, no claim


class _FakeServer(BaseHTTPRequestHandler):
    kernels: list[dict] = []
    deleted: list[str] = []

    def _send(self, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200 if payload is not None else 204)
        self.end_headers()
        self.wfile.write(body if payload is not None else b"")

    def do_GET(self):  # noqa: N802 - the http.server API
        if self.path.startswith("/api/kernels"):
            self._send(self.kernels)
        else:
            self._send([{"path": f"{k['id']}.ipynb", "kernel": k} for k in self.kernels])

    def do_DELETE(self):  # noqa: N802
        self.deleted.append(self.path.rsplit("/", 1)[-1])
        self._send(None)

    def log_message(self, *args):
        pass


def test_other_kernels_are_listed_with_their_memory_and_only_idle_ones_shut_down(monkeypatch, capsys):
    _FakeServer.kernels = [
        {"id": "own", "execution_state": "busy"},
        {"id": "aaa", "execution_state": "idle"},
        {"id": "bbb", "execution_state": "busy"},
    ]
    _FakeServer.deleted = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "kernel-aaa.json"])
    try:
        info = {"url": f"http://127.0.0.1:{server.server_port}/", "token": "t"}
        monkeypatch.setattr(memory, "_servers", lambda: [info])
        monkeypatch.setattr(memory, "_own_kernel_id", lambda: "own")
        found = {k.kernel_id: k for k in memory.other_kernels()}
        assert set(found) == {"aaa", "bbb"} and found["aaa"].notebook == "aaa.ipynb"
        assert found["aaa"].rss_mb > 1 and found["bbb"].rss_mb is None
        assert memory.shut_down_other_kernels() is None  # nothing to echo under the cell
        out = capsys.readouterr().out
        assert _FakeServer.deleted == ["aaa"] and "shut down the kernel of aaa.ipynb" in out
        assert "left running (busy): bbb.ipynb" in out and "1 kernel(s) shut down" in out
    finally:
        sleeper.kill()
        server.shutdown()


def test_outside_a_jupyter_server_nothing_is_listed_or_shut_down(capsys):
    assert memory.other_kernels() == []
    memory.shut_down_other_kernels()
    assert "does not run in a Jupyter server" in capsys.readouterr().out


def test_training_notebooks_take_the_embedded_model_when_the_reference_model_cannot_train(monkeypatch, capsys):
    monkeypatch.delenv(models.MODEL_ENV, raising=False)
    monkeypatch.setattr(models, "_in_cache", lambda name: name == models.REFERENCE_MODEL)  # as if online
    binder = memory.Room(limit_mb=2048, used_mb=400, source="cgroup v1")
    monkeypatch.setattr(memory, "room", lambda: binder)
    monkeypatch.setattr(memory, "_own_rss_mb", lambda: 300.0)  # a kernel at its first cell, not this test process
    assert models.resolve_model(verbose=False).name_or_path == models.REFERENCE_MODEL  # encoding only: fine
    choice = models.resolve_model(for_training=True)
    need = min(memory.needs()["training"]["distilroberta-base"].values())
    assert choice.embedded
    assert f"training distilroberta-base needs at least {need:,} MB" in capsys.readouterr().out
    laptop = memory.Room(limit_mb=16000, used_mb=4000, source="host")
    monkeypatch.setattr(memory, "room", lambda: laptop)
    assert models.resolve_model(for_training=True, verbose=False).name_or_path == models.REFERENCE_MODEL
    monkeypatch.setenv(models.MODEL_ENV, "embedded")
    monkeypatch.setattr(memory, "room", lambda: binder)
    assert models.resolve_model(for_training=True, verbose=False).embedded  # STUTOR_MODEL still wins


def test_a_container_sees_its_own_group_as_the_root_or_only_mem_limit(tmp_path, monkeypatch):
    proc = _proc(tmp_path, "12:memory:/docker/abc123")  # the path does not exist inside the container
    (tmp_path / "cg" / "memory").mkdir(parents=True)
    (tmp_path / "cg" / "memory" / "memory.limit_in_bytes").write_text(str(2048 * MIB))
    (tmp_path / "cg" / "memory" / "memory.usage_in_bytes").write_text(str(512 * MIB))
    state = memory.room(tmp_path / "cg", proc)
    assert (state.source, state.limit_mb, state.used_mb) == ("cgroup v1", 2048, 512)
    monkeypatch.setenv("MEM_LIMIT", str(2048 * MIB))
    state = memory.room(tmp_path / "nothing", proc)
    assert state.source == "MEM_LIMIT" and state.limit_mb == 2048 and state.used_mb > 0


def test_a_notebooks_configure_freezes_the_imports_once_and_a_library_call_never(monkeypatch):
    import gc

    from stutor import runtime

    frozen: list[int] = []
    monkeypatch.setattr(runtime, "_frozen", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    runtime.configure()  # as training.train calls it: the caller's model and data must stay collectable
    assert frozen == []
    runtime.configure(notebook="04_data_formats")  # a notebook's first cell
    runtime.configure(notebook="04_data_formats")
    assert frozen == [1]


def test_quiet_mode_checks_nothing_so_committed_outputs_do_not_depend_on_the_machine(monkeypatch, capsys):
    from stutor import runtime

    monkeypatch.setattr(runtime, "_frozen", True)  # nothing of this test process is frozen
    monkeypatch.setattr(memory, "room", lambda: memory.Room(limit_mb=1000, used_mb=990, source="host"))
    monkeypatch.setenv("STUTOR_QUIET", "1")
    runtime.configure(notebook="07_training_with_triplet_loss")
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("STUTOR_QUIET", "0")
    runtime.configure(notebook="07_training_with_triplet_loss")
    assert "will not fit" in capsys.readouterr().out
    monkeypatch.setenv("STUTOR_QUIET", "1")
    runtime.configure()


def test_release_deletes_the_names_and_reports_the_fall(capsys):
    namespace = {"model": bytearray(64 * 1024 * 1024), "kept": 1}
    freed = memory.release(namespace, "model")
    assert "model" not in namespace and namespace == {"kept": 1}
    assert freed >= 0
    assert "released model: this kernel holds" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("namespace", "names", "error", "words"),
    [
        ([], ("model",), TypeError, "globals()"),
        ({"model": 1}, (), ValueError, "at least one"),
        ({"model": 1}, (3,), TypeError, "as strings"),
        ({"model": 1}, ("model", "modle"), ValueError, "modle"),
    ],
)
def test_release_checks_everything_before_deleting(namespace, names, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        memory.release(namespace, *names, verbose=False)
    if isinstance(namespace, dict):
        assert "model" in namespace  # a typo deletes nothing


def test_return_memory_promptly_takes_effect_on_linux():
    took = memory.return_memory_promptly()
    assert took is sys.platform.startswith("linux")
