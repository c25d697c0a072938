"""Golden tests: every tests/shell/scripts/NAME.cql runs through ``cqlpy -f NAME.cql`` against a fresh
embedded database; stdout must equal NAME.out, stderr NAME.err (missing = empty) and the exit status
NAME.rc (missing = 0).  Run with CQLPY_REGEN=1 to rewrite the expected files from the actual output
(then read the diff before committing it).
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import cqlpy

SCRIPTS = Path(__file__).parent / "scripts"
CASES = sorted(p.stem for p in SCRIPTS.glob("*.cql"))

pytestmark = pytest.mark.skipif(not hasattr(cqlpy, "connect"),
                                reason="cqlpy.connect() does not exist yet (embedded database issue)")


def run_script(name: str, data: Path, monkeypatch) -> tuple[str, str, int]:
    from cqlpy_shell.main import main
    monkeypatch.chdir(SCRIPTS)
    out, err = io.StringIO(), io.StringIO()
    code = main(["--data", str(data), "-f", f"{name}.cql"], stdin=io.StringIO(""), stdout=out, stderr=err,
                environ={"HOME": str(data.parent)})
    return out.getvalue(), err.getvalue(), code


def _expected(path: Path, default: str = "") -> str:
    return path.read_text(encoding="utf-8") if path.exists() else default


@pytest.mark.parametrize("name", CASES)
def test_script(name: str, tmp_path: Path, monkeypatch) -> None:
    stdout, stderr, code = run_script(name, tmp_path / "data", monkeypatch)
    out_file, err_file, rc_file = (SCRIPTS / f"{name}{ext}" for ext in (".out", ".err", ".rc"))
    if os.environ.get("CQLPY_REGEN"):
        out_file.write_text(stdout, encoding="utf-8")
        if stderr:
            err_file.write_text(stderr, encoding="utf-8")
        elif err_file.exists():
            err_file.unlink()
        if code:
            rc_file.write_text(f"{code}\n")
        elif rc_file.exists():
            rc_file.unlink()
    assert stdout == _expected(out_file), f"stdout of {name}.cql differs"
    assert stderr == _expected(err_file), f"stderr of {name}.cql differs"
    assert code == int(_expected(rc_file, "0").strip() or 0), f"exit status of {name}.cql"
