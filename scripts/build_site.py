"""``make html``: the executed notebooks as a static site, for reading without Jupyter.

Each notebook in ``notebooks/`` (and its worked solution from ``notebooks/solutions/``, placed
right after its chapter) is rendered with nbconvert, stored outputs included; nothing is
re-executed. Every page gets previous / contents / next links, and ``index.html`` lists the
chapters with their one-line summaries.

Usage:
    python scripts/build_site.py [--notebooks notebooks] [--out _site]
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from execute_notebooks import notebooks  # noqa: E402
from run_all import notebook_facts  # noqa: E402

CHAPTER = re.compile(r"\d\d_[a-z0-9_]+\.ipynb")
# Relative links between notebooks (`[notebook 03](03_x.ipynb)`) point at the rendered pages instead.
NOTEBOOK_LINK = re.compile(r'href="(?!https?:|/)([^"#]+)\.ipynb(#[^"]*)?"')
NAV_STYLE = (
    "<style>.stutor-nav{display:flex;justify-content:space-between;gap:1em;max-width:1100px;"
    "margin:0.8em auto;padding:0.5em 1em;font-family:sans-serif;border:1px solid #ddd;border-radius:6px}"
    ".stutor-nav a{text-decoration:none}</style>"
)


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its source, its page path inside the site, title and summary."""

    source: Path
    number: str
    href: str
    title: str
    summary: str
    solution: bool


def collect_pages(folder: Path) -> list[Page]:
    """Chapters in order, each followed by its solution notebook(s) from ``folder/solutions``.

    Args:
        folder: the notebooks folder.

    Returns:
        The pages in reading order.

    Raises:
        ValueError: the folder has no ``NN_topic.ipynb`` chapter.
    """
    found = notebooks([str(folder)])
    chapters = [p for p in found if p.parent == folder and CHAPTER.fullmatch(p.name)]
    if not chapters:
        raise ValueError(f"{folder} has no NN_topic.ipynb notebooks to render; pass the course's notebooks folder.")
    solutions = [p for p in found if p.parent == folder / "solutions" and CHAPTER.fullmatch(p.name)]
    pages: list[Page] = []
    for chapter in chapters:
        for path in [chapter] + [s for s in solutions if s.name[:2] == chapter.name[:2]]:
            title, summary = notebook_facts(path)
            is_solution = path.parent != folder
            href = f"solutions/{path.stem}.html" if is_solution else f"{path.stem}.html"
            pages.append(Page(path, path.name[:2], href, title, summary, is_solution))
    return pages


def _relative(href: str, from_page: Page) -> str:
    return ("../" + href) if from_page.solution else href


def _nav(pages: list[Page], index: int) -> str:
    page = pages[index]
    previous = pages[index - 1] if index > 0 else None
    following = pages[index + 1] if index + 1 < len(pages) else None
    left = (
        f'<a rel="prev" href="{_relative(previous.href, page)}">← {html.escape(previous.title)}</a>'
        if previous
        else "<span></span>"
    )
    right = (
        f'<a rel="next" href="{_relative(following.href, page)}">{html.escape(following.title)} →</a>'
        if following
        else "<span></span>"
    )
    contents = f'<a href="{_relative("index.html", page)}">Contents</a>'
    return f'<nav class="stutor-nav">{left}{contents}{right}</nav>'


def _render(page: Page, exporter: HTMLExporter, nav: str) -> str:
    body, _ = exporter.from_notebook_node(nbformat.read(page.source, as_version=4))
    body = NOTEBOOK_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
    body = body.replace("</head>", NAV_STYLE + "</head>", 1)
    return body.replace("</body>", nav + "</body>", 1)


def _index(pages: list[Page]) -> str:
    items = []
    for page in pages:
        if page.solution:
            label = page.title if "solution" in page.title.lower() else f"Solutions: {page.title}"
            items.append(f'  <li class="solution"><a href="{page.href}">{html.escape(label)}</a></li>')
        else:
            summary = f" — {html.escape(page.summary)}" if page.summary else ""
            label = html.escape(f"{page.number} · {page.title}")
            items.append(f'  <li><a href="{page.href}">{label}</a>{summary}</li>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Sentence Transformers, hands-on</title>\n"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "ul{list-style:none;padding-left:0}li{margin:0.4em 0}li.solution{margin-left:2em}</style>\n</head>\n<body>\n"
        "<h1>Sentence Transformers, hands-on</h1>\n"
        "<p>The course notebooks with their stored outputs, for reading without Jupyter. "
        "To run them, use <code>make lab</code>.</p>\n<h2>Contents</h2>\n<ul>\n"
        + "\n".join(items)
        + "\n</ul>\n</body>\n</html>\n"
    )


def build_site(folder: Path, out: Path) -> list[Path]:
    """Render every page and the contents page into ``out``.

    Args:
        folder: the notebooks folder (chapters, plus ``solutions/`` if present).
        out: the site folder; created if needed, its pages overwritten.

    Returns:
        The written files, ``index.html`` first.
    """
    pages = collect_pages(folder)
    exporter = HTMLExporter(template_name="lab")
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    index.write_text(_index(pages), encoding="utf-8")
    written = [index]
    for number, page in enumerate(pages):
        target = out / page.href
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_render(page, exporter, _nav(pages, number)), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="notebooks folder")
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="site folder to write")
    args = parser.parse_args(argv)
    written = build_site(args.notebooks.resolve(), args.out)
    print(f"wrote {len(written) - 1} pages and {written[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
