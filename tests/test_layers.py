"""The import directions of DESIGN.md hold: no layer imports a layer above or beside it.

Every ``import`` / ``from ... import`` statement of every module (module level or inside a function)
is read with ``ast``; a module of layer L may import only the layers listed for L.  The wiring
modules beside node.py (node_ring, node_admin, node_indexes, nodetool) and ``cqlpy/__init__.py``
may import anything, as node.py does.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "cqlpy"

ALLOWED = {
    "errors": set(),
    "language": {"errors"},
    "schema": {"language", "errors"},
    "planner": {"schema", "language", "errors"},
    "engine": {"errors"},
    "cluster": {"engine", "schema", "errors"},
    "session": {"planner", "schema", "language", "engine", "errors"},
    "protocol": {"session", "schema", "errors"},
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "cqlpy" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ALLOWED else None


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def test_every_layer_imports_only_what_design_allows():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(rel.parts)
        layer = _layer(module)
        if layer is None:
            continue                      # node.py and its wiring modules may import anything
        package = module.rsplit(".", 1)[0]
        for line, target in _imports(path, package):
            other = _layer(target)
            if other is not None and other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} ({layer}) imports {target}")
    assert not wrong, "\n".join(wrong)
