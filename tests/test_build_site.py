"""`make html`: the static site has a contents page, every page, and working previous/next links."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_site  # noqa: E402

CHAPTERS = ["01_sentence_transformer_anatomy.ipynb", "02_first_layer_is_last_hidden_state.ipynb"]


def _links(page: Path) -> list[str]:
    return re.findall(r'href="([^"#]+)', page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from copies of notebooks 01 and 02 plus a small solution notebook for 01."""
    folder = tmp_path_factory.mktemp("notebooks")
    for name in CHAPTERS:
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    solution = nbformat.v4.new_notebook()
    solution.cells = [
        nbformat.v4.new_markdown_cell(
            "# 01 · Solutions to the exercises\n\nBack to [the chapter](../" + CHAPTERS[0] + ")."
        ),
        nbformat.v4.new_code_cell(
            "print('solved')", execution_count=1, outputs=[nbformat.v4.new_output("stream", text="solved\n")]
        ),
    ]
    (folder / "solutions").mkdir()
    nbformat.write(solution, folder / "solutions" / CHAPTERS[0])
    out = tmp_path_factory.mktemp("site")
    return out, build_site.build_site(folder, out)


def test_writes_the_contents_page_and_every_page_in_reading_order(site):
    out, written = site
    pages = [path.relative_to(out).as_posix() for path in written]
    assert pages == [
        "index.html",
        "01_sentence_transformer_anatomy.html",
        "solutions/01_sentence_transformer_anatomy.html",
        "02_first_layer_is_last_hidden_state.html",
    ]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "01 · How a Sentence Transformer is built" in index and "Solutions to the exercises" in index
    assert _links(out / "index.html") == pages[1:]


def test_every_page_links_previous_contents_and_next(site):
    out, written = site
    chain = written[1:]
    for number, page in enumerate(chain):
        text = page.read_text(encoding="utf-8")
        hrefs = {
            rel: (page.parent / href).resolve() for rel, href in re.findall(r'rel="(prev|next)" href="([^"]+)"', text)
        }
        assert hrefs.get("prev") == (chain[number - 1].resolve() if number else None)
        assert hrefs.get("next") == (chain[number + 1].resolve() if number + 1 < len(chain) else None)
        contents = re.search(r'<a href="([^"]*index\.html)">Contents</a>', text)
        assert contents and (page.parent / contents.group(1)).resolve() == (out / "index.html").resolve()


def test_pages_keep_stored_outputs_and_link_pages_not_notebooks(site):
    out, _ = site
    chapter = (out / "01_sentence_transformer_anatomy.html").read_text(encoding="utf-8")
    assert "token_embeddings: (1, 6, 384)" in chapter
    assert re.search(r"<img [^>]*src=\"data:image/png;base64,", chapter), "the heatmap is not embedded"
    solution = out / "solutions" / "01_sentence_transformer_anatomy.html"
    assert "../01_sentence_transformer_anatomy.html" in _links(solution)
    assert not [href for href in _links(solution) if href.endswith(".ipynb")]


def test_a_folder_without_chapters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no NN_topic.ipynb notebooks"):
        build_site.build_site(tmp_path, tmp_path / "site")
