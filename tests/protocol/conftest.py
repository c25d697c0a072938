"""Protocol tests: the helpers in wire.py, and a server over the scripted backend."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wire import FakeBackend  # noqa: E402

from cqlpy.protocol.server import ServerOptions, ServerThread  # noqa: E402


@pytest.fixture
def fake_backend():
    return FakeBackend()


@pytest.fixture
def fake_server(fake_backend):
    """A server on a free loopback port over the scripted backend; stopped after the test."""
    with ServerThread(fake_backend, ServerOptions(port=0, max_frame_size=1 << 20)) as server:
        yield server
