"""Re-execute notebooks in place, each in its own process (``make execute``).

Usage:
    python benchmarks/execute_notebooks.py [FOLDER_OR_NOTEBOOK ...]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def notebooks(targets: list[str]) -> list[Path]:
    """Expand folders into their ``NN_*.ipynb`` notebooks (solutions included), sorted."""
    found: list[Path] = []
    for target in targets or ["notebooks"]:
        path = Path(target)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def main(argv: list[str]) -> int:
    for notebook in notebooks(argv):
        print(f"executing {notebook}", flush=True)
        subprocess.run([sys.executable, str(HERE / "notebook_runner.py"), str(notebook), "--write"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
