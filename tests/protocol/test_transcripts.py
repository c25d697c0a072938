"""Scripted frame exchanges from tests/fixtures/protocol/*.txt against the scripted backend, with
backend calls on a worker thread (the default) and on the event loop thread (workers=0)."""
import pytest

from wire import FIXTURES, FakeBackend, load_transcripts, run_transcript

from cqlpy.protocol.server import ServerOptions, ServerThread

CASES = [(path.stem, i, lines) for path in sorted(FIXTURES.glob("*.txt"))
         for i, lines in enumerate(load_transcripts(path))]


@pytest.fixture(scope="module", params=[1, 0], ids=["worker", "inline"])
def server(request):
    opts = ServerOptions(port=0, max_frame_size=1 << 20, workers=request.param)
    with ServerThread(FakeBackend(), opts) as s:
        yield s


@pytest.mark.parametrize("name,index,lines", CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_transcript(server, name, index, lines):
    run_transcript(server.address, lines)
