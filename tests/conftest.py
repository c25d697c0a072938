"""Test-suite settings: property tests run a fixed set of examples under CI, so a run is repeatable."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
