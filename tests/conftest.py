"""Test-suite settings: property tests run a fixed set of examples under CI, so a run is repeatable;
the shared helpers of tests/support (server_processes.py) are importable by name."""
import os
import sys
from pathlib import Path

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
