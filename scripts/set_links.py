"""Write the hosting repository into every launch link: ``make links REPO=owner/name``.

The README's Binder badge, each notebook's opening links (Binder and Colab) and the Colab install
line of each notebook's first code cell all name the GitHub repository that hosts the course.
After forking, run this once with your ``owner/name`` and commit the result.

Usage:
    python scripts/set_links.py owner/name [--root FOLDER]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# owner/name inside the three kinds of link; the rest of each link stays as it is.
LINKS = (
    re.compile(r"(https://mybinder\.org/v2/gh/)[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/)"),
    re.compile(r"(https://colab\.research\.google\.com/github/)[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/)"),
    re.compile(r"(git\+https://github\.com/)[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(\.git)?(?=[\"'@#\s\\]|$)"),
)


def files(root: Path) -> list[Path]:
    """The files that hold launch links: the README, the docs and every notebook."""
    return sorted([root / "README.md", *root.glob("docs/*.md"), *root.glob("notebooks/**/*.ipynb")])


def set_links(repo: str, root: Path = ROOT) -> list[Path]:
    """Point every launch link at ``repo``; return the files changed.

    Raises:
        ValueError: ``repo`` is not ``owner/name``.
    """
    if not REPO.match(repo):
        raise ValueError(f"REPO must be the GitHub repository as owner/name (e.g. jane/stutor), not {repo!r}.")
    changed = []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        new = text
        for link in LINKS:
            new = link.sub(lambda m: m.group(1) + repo + (m.group(2) or ""), new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="the GitHub repository that hosts the course, owner/name")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this one)")
    args = parser.parse_args(argv)
    try:
        changed = set_links(args.repo, args.root)
    except ValueError as error:
        parser.error(str(error))
    print(f"launch links now point at {args.repo}: {len(changed)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
