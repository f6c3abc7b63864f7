"""pip users, conda users and Binder must get the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# Extras that conda and Binder get; `dev` (browser test, Binder check) is for CI and `make test` only.
LEARNER_EXTRAS = ("course",)


def _pyproject(extras: tuple[str, ...] | None = None) -> dict[str, str]:
    """Pins of the dependencies plus the given extras (all extras when None)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    chosen = optional if extras is None else {name: optional[name] for name in extras}
    requirements = project["dependencies"] + [r for extra in chosen.values() for r in extra]
    return {_name(r): r.replace(" ", "") for r in requirements}


def _environment() -> dict[str, str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return {_name(r): r.replace(" ", "") for r in pip_block if not r.startswith("-")}


def test_every_requirement_is_pinned_exactly():
    for requirement in _pyproject().values():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+-]*", requirement), requirement


def test_environment_yml_lists_the_same_pins_as_pyproject():
    assert _environment() == _pyproject(LEARNER_EXTRAS)


def test_dev_extra_stays_out_of_environment_yml():
    dev = _pyproject(("dev",)).keys() - _pyproject(()).keys()
    assert dev and not dev & _environment().keys()


def test_environment_yml_uses_python_311():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in spec["dependencies"]


def test_constraints_agree_with_pyproject():
    lines = [line.strip() for line in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = {_name(line): _name(line) + line[len(_name(line)) :] for line in lines if line and not line.startswith("#")}
    for name, requirement in _pyproject().items():
        assert pins.get(name) == requirement, f"constraints.txt has {pins.get(name)!r}, pyproject {requirement!r}"
