"""The layering rules of the design, checked by parsing every module's imports.

- Streamlit only in ``app_pages/``, ``dashboard.py`` and ``recsys/dashboard/ui/``.
- TensorFlow and Keras only in the network module, ``recsys/model/lab/network.py``.
- Lower stages never import higher ones: ``dataset`` imports no other stage; ``model``
  imports neither ``serving``, ``evaluation``, ``dashboard`` nor ``cli``; ``serving`` and
  ``evaluation`` import neither ``dashboard`` nor ``cli``.
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
NETWORK_MODULE = "recsys/model/lab/network.py"


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
    """The rules that the module at ``path`` (relative, with /) breaks."""
    found = []
    modules = imported_modules(source)
    roots = {name.split(".")[0] for name in modules}
    streamlit_ok = (
        path.startswith("app_pages/")
        or path == "dashboard.py"
        or path.startswith("recsys/dashboard/ui/")
    )
    # The bench drives the app through Streamlit's own test tools, as the tests do.
    streamlit_ok = streamlit_ok or path.startswith("bench/")
    if "streamlit" in roots and not streamlit_ok:
        found.append(f"{path} imports streamlit")
    if roots & {"tensorflow", "keras"} and path != NETWORK_MODULE:
        found.append(f"{path} imports {', '.join(sorted(roots & {'tensorflow', 'keras'}))}")
    parts = path.split("/")
    if parts[0] == "recsys" and len(parts) > 2 and parts[1] in FORBIDDEN_STAGES:
        stage = parts[1]
        used = {name.split(".")[1] for name in modules if name.startswith("recsys.")}
        for other in sorted(used & FORBIDDEN_STAGES[stage]):
            found.append(f"{path} ({stage}) imports recsys.{other}")
    return found


def project_modules() -> list[Path]:
    files = [PROJECT_ROOT / "dashboard.py"]
    for folder in ("recsys", "app_pages", "bench"):
        files.extend(sorted((PROJECT_ROOT / folder).rglob("*.py")))
    return files


def test_the_project_keeps_its_layers():
    broken = []
    for file in project_modules():
        relative = file.relative_to(PROJECT_ROOT).as_posix()
        broken.extend(violations(relative, file.read_text(encoding="utf-8")))
    assert not broken, "\n".join(broken)


def test_every_stage_is_a_package():
    for stage in STAGES:
        assert (PROJECT_ROOT / "recsys" / stage / "__init__.py").is_file(), stage


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [
        ("recsys/serving/recommender.py", "import streamlit as st", "imports streamlit"),
        ("recsys/dashboard/charts.py", "from streamlit import cache_data", "imports streamlit"),
        ("recsys/evaluation/run.py", "import tensorflow as tf", "imports tensorflow"),
        ("recsys/model/lab/train.py", "def f():\n    import keras\n", "imports keras"),
        ("recsys/dataset/synth.py", "from recsys.model import features", "imports recsys.model"),
        ("recsys/model/lab/train.py", "from recsys.serving.recommender import X", "recsys.serving"),
        ("recsys/model/bundle.py", "from recsys import evaluation", "recsys.evaluation"),
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
        ("app_pages/new_user.py", "import streamlit as st"),
        ("recsys/model/lab/network.py", "import keras\nimport tensorflow as tf"),
        ("recsys/serving/recommender.py", "from recsys.model.bundle import read_verified"),
        ("recsys/dashboard/charts.py", "from recsys.serving.recommender import PREDICTED"),
        ("recsys/cli/main.py", "from recsys.evaluation import run"),
    ],
)
def test_an_allowed_import_passes(path, source):
    assert violations(path, source) == []


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def test_modules_and_functions_stay_short():
    """Short modules with one reason to change each; no function past one screen."""
    too_long = []
    for file in sorted((PROJECT_ROOT / "recsys").rglob("*.py")):
        source = file.read_text(encoding="utf-8")
        relative = file.relative_to(PROJECT_ROOT).as_posix()
        if source.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{relative}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)
