"""Protocol tests: the helpers in wire.py, a server over the scripted backend, and a real
SessionBackend over a fresh data folder for each test module."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wire import FakeBackend  # noqa: E402

from cqlpy.protocol.backend import SessionBackend  # noqa: E402
from cqlpy.protocol.server import ServerOptions, ServerThread  # noqa: E402


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """The embedded database behind a module's servers, in a fresh data folder."""
    b = SessionBackend.open_path(str(tmp_path_factory.mktemp("data")))
    yield b
    b.close()


@pytest.fixture
def fake_backend():
    return FakeBackend()


@pytest.fixture
def fake_server(fake_backend):
    """A server on a free loopback port over the scripted backend; stopped after the test."""
    with ServerThread(fake_backend, ServerOptions(port=0, max_frame_size=1 << 20)) as server:
        yield server
