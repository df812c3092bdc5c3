"""The design's structural rules, checked by parsing every module's imports.

- Streamlit only in ``pages/``, ``dashboard.py`` and ``recsys/dashboard/ui/``.
- TensorFlow and Keras only in ``recsys/model/_tf.py``, and that module imported only by
  the Keras graphs and the distributed steps (``TF_MODULES``).
- Lower stages never import higher ones: ``dataset`` imports no other stage; ``model``
  imports neither ``serving``, ``evaluation``, ``dashboard`` nor ``cli``; ``serving`` and
  ``evaluation`` import neither ``dashboard`` nor ``cli``.
- No import cycles among the project's modules, counting the imports inside functions
  and under ``TYPE_CHECKING``.
- No private name (``_x``) is used outside the module that defines it: what modules
  share is public and named for what it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from recsys.settings import PROJECT_ROOT

STAGES = ("dataset", "model", "serving", "evaluation", "dashboard", "cli")
FORBIDDEN_STAGES = {
    "dataset": {"model", "serving", "evaluation", "dashboard", "cli"},
    "model": {"serving", "evaluation", "dashboard", "cli"},
    "serving": {"dashboard", "cli"},
    "evaluation": {"dashboard", "cli"},
}
TF_MODULE = "recsys/model/_tf.py"
TF_IMPORT = "recsys.model._tf"
TF_MODULES = {
    "recsys/model/lab/network.py",
    "recsys/model/hybrid/network.py",
    "recsys/model/distributed/strategy.py",
    "recsys/model/distributed/lab_step.py",
    "recsys/model/distributed/hybrid_step.py",
}
PROJECT_ROOTS = ("recsys", "bench", "tests")
# A named tuple's own API: public, though spelt with an underscore.
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make"}


def imported_modules(source: str) -> set[str]:
    """Every module named by an ``import`` or ``from … import`` anywhere in ``source``.

    ``from pkg import name`` counts as both ``pkg`` and ``pkg.name``, since ``name`` may
    be a submodule.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(path: str, source: str) -> list[str]:
    """The layering rules that the module at ``path`` (relative, with /) breaks."""
    found = []
    modules = imported_modules(source)
    roots = {name.split(".")[0] for name in modules}
    streamlit_ok = (
        path.startswith("pages/")
        or path == "dashboard.py"
        or path.startswith("recsys/dashboard/ui/")
    )
    # The bench drives the app through Streamlit's own test tools, as the tests do.
    streamlit_ok = streamlit_ok or path.startswith("bench/")
    if "streamlit" in roots and not streamlit_ok:
        found.append(f"{path} imports streamlit")
    if roots & {"tensorflow", "keras"} and path != TF_MODULE:
        found.append(f"{path} imports {', '.join(sorted(roots & {'tensorflow', 'keras'}))}")
    if TF_IMPORT in modules and path not in TF_MODULES:
        found.append(f"{path} imports {TF_IMPORT}")
    parts = path.split("/")
    if parts[0] == "recsys" and len(parts) > 2 and parts[1] in FORBIDDEN_STAGES:
        stage = parts[1]
        used = {name.split(".")[1] for name in modules if name.startswith("recsys.")}
        for other in sorted(used & FORBIDDEN_STAGES[stage]):
            found.append(f"{path} ({stage}) imports recsys.{other}")
    return found


def module_name(path: str) -> str:
    """``recsys/model/bundle/__init__.py`` → ``recsys.model.bundle``."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module → the project modules it imports, wherever the import stands (at the top,
    in a function, under ``TYPE_CHECKING``). ``from pkg import name`` is an edge to the
    submodule ``pkg.name`` when there is one, else to ``pkg``; importing a submodule is
    not counted as importing the packages above it."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = {
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in sources
                    else node.module
                    for alias in node.names
                }
            else:
                continue
            graph[name].update(t for t in targets if t in sources and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each set of modules that import one another in a ring (Tarjan's strongly
    connected components of more than one module), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            ring = []
            while True:
                member = stack.pop()
                ring.append(member)
                if member == node:
                    break
            if len(ring) > 1:
                found.append(sorted(ring))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def private_uses(path: str, source: str) -> list[str]:
    """Private names the module at ``path`` takes from elsewhere in the project:
    ``from recsys.x import _name``, ``module._name`` of a project module, and
    ``obj._name`` of another module's object (a name this module never defines)."""
    tree = ast.parse(source)
    found = []
    project_names: set[str] = set()  # names bound to project modules or their members
    other_names: set[str] = set()  # names bound to third-party modules
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            project = bool(node.module) and node.module.split(".")[0] in PROJECT_ROOTS
            for alias in node.names:
                bound = alias.asname or alias.name
                (project_names if project or node.level else other_names).add(bound)
                if (project or node.level) and _private(alias.name):
                    found.append(f"{path}:{node.lineno} imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                project = alias.name.split(".")[0] in PROJECT_ROOTS
                (project_names if project else other_names).add(bound)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        root = node.value
        while isinstance(root, ast.Attribute | ast.Call | ast.Subscript):
            root = root.func if isinstance(root, ast.Call) else root.value
        owner = root.id if isinstance(root, ast.Name) else None
        if owner in {"self", "cls"} or owner in other_names or node.attr in NAMEDTUPLE_API:
            continue
        if owner in project_names or node.attr not in defined:
            found.append(f"{path}:{node.lineno} uses {ast.unparse(node)}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def project_modules() -> list[Path]:
    files = [PROJECT_ROOT / "dashboard.py"]
    for folder in ("recsys", "pages", "bench"):
        files.extend(sorted((PROJECT_ROOT / folder).rglob("*.py")))
    return files


def relative(file: Path) -> str:
    return file.relative_to(PROJECT_ROOT).as_posix()


def test_the_project_keeps_its_layers():
    broken = []
    for file in project_modules():
        broken.extend(violations(relative(file), file.read_text(encoding="utf-8")))
    assert not broken, "\n".join(broken)


def test_every_stage_is_a_package():
    for stage in STAGES:
        assert (PROJECT_ROOT / "recsys" / stage / "__init__.py").is_file(), stage


def test_no_module_imports_itself_through_others():
    sources = {
        module_name(relative(file)): file.read_text(encoding="utf-8")
        for file in sorted((PROJECT_ROOT / "recsys").rglob("*.py"))
    }
    found = cycles(import_graph(sources))
    assert not found, "\n".join(" ↔ ".join(ring) for ring in found)


def test_no_private_name_crosses_a_module():
    taken = []
    for file in project_modules():
        taken.extend(private_uses(relative(file), file.read_text(encoding="utf-8")))
    assert not taken, "\n".join(taken)


def test_tensorflow_is_imported_in_one_module():
    importers = {
        relative(file)
        for file in project_modules()
        if TF_IMPORT in imported_modules(file.read_text(encoding="utf-8"))
    }
    assert (PROJECT_ROOT / TF_MODULE).is_file()
    assert importers <= TF_MODULES, importers - TF_MODULES


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [
        ("recsys/serving/recommender.py", "import streamlit as st", "imports streamlit"),
        ("recsys/dashboard/charts.py", "from streamlit import cache_data", "imports streamlit"),
        ("recsys/evaluation/run.py", "import tensorflow as tf", "imports tensorflow"),
        ("recsys/model/lab/train.py", "def f():\n    import keras\n", "imports keras"),
        ("recsys/model/lab/network.py", "import tensorflow as tf", "imports tensorflow"),
        (
            "recsys/model/lab/train.py",
            "from recsys.model._tf import tf",
            "imports recsys.model._tf",
        ),
        ("recsys/model/hybrid/params.py", "import recsys.model._tf", "imports recsys.model._tf"),
        ("recsys/dataset/synth.py", "from recsys.model import features", "imports recsys.model"),
        ("recsys/model/lab/train.py", "from recsys.serving.recommender import X", "recsys.serving"),
        ("recsys/model/bundle/store.py", "from recsys import evaluation", "recsys.evaluation"),
        ("recsys/serving/catalogue.py", "import recsys.dashboard.overview", "recsys.dashboard"),
        ("recsys/evaluation/run.py", "from recsys.cli.main import main", "recsys.cli"),
    ],
)
def test_a_broken_rule_is_caught(path, source, rule):
    assert any(rule in line for line in violations(path, source))


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("recsys/dashboard/ui/frame.py", "import streamlit as st"),
        ("pages/new_user.py", "import streamlit as st"),
        ("recsys/model/_tf.py", "import keras\nimport tensorflow as tf"),
        ("recsys/model/hybrid/network.py", "from recsys.model._tf import keras, tf"),
        ("recsys/model/distributed/hybrid_step.py", "from recsys.model._tf import tf"),
        ("recsys/serving/recommender.py", "from recsys.model.bundle import read_verified"),
        ("recsys/dashboard/charts.py", "from recsys.serving.recommender import PREDICTED"),
        ("recsys/cli/main.py", "from recsys.evaluation import run"),
    ],
)
def test_an_allowed_import_passes(path, source):
    assert violations(path, source) == []


@pytest.mark.parametrize(
    "modules",
    [
        {"recsys.a": "import recsys.b", "recsys.b": "from recsys import a"},
        {
            "recsys.a": "def f():\n    from recsys.b import g\n",
            "recsys.b": "from recsys.a import f",
        },
        {
            "recsys.a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import recsys.c",
            "recsys.b": "from recsys.a import x",
            "recsys.c": "from recsys.b import y",
        },
    ],
)
def test_an_import_cycle_is_caught(modules):
    assert cycles(import_graph(modules)) == [sorted(modules)]


def test_a_package_and_its_submodules_are_no_cycle():
    modules = {
        "recsys.pkg": "from recsys.pkg.store import write",
        "recsys.pkg.store": "from recsys.pkg.verify import check",
        "recsys.pkg.verify": "import json",
        "recsys.pkg.gate": "from recsys.pkg import write",
    }
    assert cycles(import_graph(modules)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from recsys.dataset.sources import _CappedReader",
        "from recsys.model import hybrid\nhybrid._Trainer()",
        "import recsys.model.hybrid.network as net\nnet._batches()",
        "def f(trainer):\n    return trainer._step(1)",
    ],
)
def test_a_private_name_taken_from_elsewhere_is_caught(source):
    assert private_uses("recsys/x.py", source)


@pytest.mark.parametrize(
    "source",
    [
        "def _helper():\n    pass\n\n_helper()",
        "class A:\n    def __init__(self):\n        self._left = 1\n\n    def f(self):\n"
        "        return self._left",
        "class A:\n    _cache = {}\n\ndef f(a):\n    return a._cache",
        "import pandas as pd\npd.DataFrame._from_arrays",
        "def f(row):\n    return row._replace(a=1)",
    ],
)
def test_a_module_may_use_its_own_private_names(source):
    assert private_uses("recsys/x.py", source) == []
