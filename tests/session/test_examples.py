"""examples/app.py runs and answers as expected (examples/primer.cql runs in test_fixtures.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "examples" / "app.py"


def load_app():
    spec = importlib.util.spec_from_file_location("example_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_app_runs_twice_on_the_same_folder(tmp_path):
    app = load_app()
    lines: list[str] = []
    app.run(str(tmp_path / "data"), out=lines.append)
    assert lines[:3] == ["register ann: ok", "register bob: ok", "register ann: name taken"]
    assert lines[3] == "ann's posts, newest first: " + ", ".join(f"Post {i}" for i in range(7, 0, -1))
    assert lines[4] == "ann's email: ann@example.com (joined 2024-01-01)"
    assert lines[5] == "ann has 7 posts"
    assert lines[6:8] == ["views of /: 3", "views of /about: 1"]
    assert lines[8] == "bob's session expires in about 3600 s"
    assert lines[9] == "bob's posts after delete: None"
    again: list[str] = []
    app.run(str(tmp_path / "data"), out=again.append)
    assert again[:3] == ["register ann: name taken", "register bob: name taken", "register ann: name taken"]
    assert again[5] == "ann has 14 posts"
    assert again[6:8] == ["views of /: 6", "views of /about: 2"]
