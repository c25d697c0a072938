"""``python -m cqlpy_shell``: the cqlpy shell."""
import sys

from .main import main

sys.exit(main())
