"""Makes the helpers next to the language tests (cql_fixtures.py) importable under
``--import-mode=importlib``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
