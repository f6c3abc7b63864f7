"""The module map stays true: every module is listed in the package docstring and docs/architecture.md,
names where it is taught, and the import graph has no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stutor

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stutor"
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if not (path.name == "__init__.py" and path.parent == PACKAGE)
)
# The exercise package's inner modules are listed as a group in the map.
TOP_LEVEL = sorted({name if name.startswith("stutor.cli.") else ".".join(name.split(".")[:2]) for name in MODULES})


@pytest.mark.parametrize("module", TOP_LEVEL)
def test_every_module_is_on_the_map(module):
    assert f"``{module}``" in stutor.__doc__ or f"``{module.rsplit('.', 1)[0]}``" in stutor.__doc__
    assert f"`{module}`" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("module", MODULES)
def test_every_module_says_what_it_is_and_where_it_is_taught(module):
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    assert doc, f"{module} has no docstring"
    assert any(word in doc for word in ("Taught in", "notebook", "command")), module
    assert any(isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in tree.body), module


def _imports(module: str) -> set[str]:
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stutor"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name for name in names if name in MODULES} or {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("stutor")}
    return {name for name in found if name in MODULES and name != module}


def test_the_import_graph_has_no_cycles():
    graph = {module: _imports(module) for module in MODULES}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import cycle: " + " -> ".join([*path, module])
        state[module] = "open"
        for other in graph[module]:
            visit(other, [*path, module])
        state[module] = "done"

    for module in MODULES:
        visit(module, [])


NOTEBOOK_FILES = sorted(ROOT.glob("notebooks/**/[0-9][0-9]_*.ipynb"))
MODULE_NAMES = {name.split(".")[1] for name in MODULES}


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_no_notebook_variable_shadows_a_stutor_module(path):
    import json

    shadowing = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.comprehension):
                targets = [node.target]
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                shadowing += [node.name] if node.name in MODULE_NAMES else []
            elif isinstance(node, ast.arg):  # a parameter shadows the module inside its function
                shadowing += [node.arg] if node.arg in MODULE_NAMES else []
            for target in targets:
                shadowing += [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and n.id in MODULE_NAMES]
    assert not shadowing, f"{path.name} assigns {sorted(set(shadowing))}, the name(s) of stutor modules"
