"""Project-wide safety: no pickle or unsafe loads anywhere, Keras loads in safe mode,
and the Streamlit server configuration locked down."""

from __future__ import annotations

import ast
from pathlib import Path

from recsys.settings import PROJECT_ROOT

PROJECT = PROJECT_ROOT


def _python_sources() -> list[Path]:
    return [p for p in PROJECT.rglob("*.py") if ".venv" not in p.parts and "tests" not in p.parts]


def test_no_pickle_or_joblib_loads_anywhere():
    # Written as pieces so that this file does not itself match a grep for them.
    forbidden = tuple(
        "".join(parts)
        for parts in (
            ("pickle", ".load"),
            ("joblib", ".load"),
            ("allow_pickle", "=True"),
            ("unsafe_allow", "_html"),
            ("safe_mode", "=False"),
            ("enable_unsafe", "_deserialization"),
        )
    )
    for path in _python_sources():
        text = path.read_text()
        for needle in forbidden:
            assert needle not in text, f"{path.name} contains {needle}"


def _load_model_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "load_model"
    ]


def test_every_keras_load_uses_safe_mode():
    """Keras' own loader is called with safe_mode=True; everyone else calls ours."""
    checked = 0
    for path in _python_sources():
        tree = ast.parse(path.read_text())
        ours = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "recsys.model.lab.network"
            and any(alias.name == "load_model" for alias in node.names)
            for node in ast.walk(tree)
        )
        for call in _load_model_calls(tree):
            checked += 1
            if isinstance(call.func, ast.Name):
                assert ours, (
                    f"{path.name}:{call.lineno}: load_model not from recsys.model.lab.network"
                )
                continue
            safe = [k for k in call.keywords if k.arg == "safe_mode"]
            assert (
                safe and isinstance(safe[0].value, ast.Constant) and safe[0].value.value is True
            ), f"{path.name}:{call.lineno}: Keras load without safe_mode=True"
    assert checked >= 2  # recsys.model.lab.network's own call and at least one caller


def test_streamlit_config_is_locked_down():
    import tomllib

    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["address"] in ("127.0.0.1", "localhost")
    assert server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    assert server["fileWatcherType"] == "none"
    assert config["client"]["showErrorDetails"] in ("none", False)
