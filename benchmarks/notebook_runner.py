"""Execute one notebook the way the course commits it, and measure it.

Usage:
    python benchmarks/notebook_runner.py NOTEBOOK [--write] [--json]

``--write`` stores the fresh outputs in the notebook (used by ``make execute``); ``--json``
prints wall seconds and the peak resident memory of the kernel (RSS, MB) for ``make bench``.
Run it under the same environment as the tests (offline, ``STUTOR_QUIET=1``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TIMEOUT_S = 600


class MeasuringClient(NotebookClient):
    """Also measures the kernel's resident memory once every cell has run, while it sits idle."""

    idle_rss_mb: float | None = None

    def set_widgets_metadata(self) -> None:  # called after the last cell, while the kernel still runs
        super().set_widgets_metadata()
        try:
            import psutil

            time.sleep(1.0)  # let the last cell's output and the garbage collector settle
            self.idle_rss_mb = psutil.Process(self.km.provisioner.process.pid).memory_info().rss / 2**20
        except (AttributeError, ImportError, OSError):  # another kernel provisioner: no number
            self.idle_rss_mb = None


def execute(path: Path, *, write: bool) -> dict[str, float]:
    """Run every cell of ``path`` top to bottom in a fresh kernel.

    Args:
        path: the notebook.
        write: save the executed notebook over the original.

    Returns:
        ``{"seconds": wall time, "peak_rss_mb": largest RSS of the kernel process, "idle_rss_mb": its RSS when
        idle after the last cell (what it keeps holding while the notebook stays open)}``.
    """
    notebook = nbformat.read(path, as_version=4)
    client = MeasuringClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    # The kernel is a child of this process and has exited: RUSAGE_CHILDREN holds its peak (kB on Linux).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if write:
        for cell in notebook.cells:  # one stream output per cell, however the kernel chunked the text
            merged: list = []
            for output in cell.get("outputs", []):
                last = merged[-1] if merged else None
                same_stream = last is not None and last.output_type == "stream" == output.output_type
                if same_stream and last.get("name") == output.get("name"):
                    last.text += output.text
                else:
                    merged.append(output)
            if "outputs" in cell:
                cell.outputs = merged
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nbformat.write(notebook, path)
    return {"seconds": seconds, "peak_rss_mb": peak_mb, "idle_rss_mb": client.idle_rss_mb}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--write", action="store_true", help="store the outputs in the notebook")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    result = execute(args.notebook, write=args.write)
    if args.json:
        print(json.dumps(result))
    else:
        idle = f", idle {result['idle_rss_mb']:.0f} MB" if result["idle_rss_mb"] is not None else ""
        print(f"{args.notebook}: {result['seconds']:.1f} s, peak {result['peak_rss_mb']:.0f} MB{idle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
