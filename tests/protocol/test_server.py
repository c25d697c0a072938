"""The server's behaviour over sockets: events, limits, compression, authentication, many clients,
and malformed input that must never disturb other connections (scripted backend, no database)."""
import random
import threading
import time

import pytest

from wire import WireClient

from cqlpy.protocol import error_messages as EM
from cqlpy.protocol import framing as F
from cqlpy.protocol import messages as M
from cqlpy.protocol import results as R
from cqlpy.protocol.auth import PasswordAuthenticator
from cqlpy.protocol.frame import LZ4Compressor, encode_frame
from cqlpy.protocol.server import ServerOptions, ServerThread


def test_schema_change_event_reaches_registered_connections_only(fake_server):
    control, other, ddl = (WireClient(fake_server.address) for _ in range(3))
    for c in (control, other, ddl):
        c.startup()
    assert isinstance(control.request(M.Register(["SCHEMA_CHANGE"]), 1), M.Ready)
    assert isinstance(other.request(M.Register(["STATUS_CHANGE"]), 1), M.Ready)
    result = ddl.request(M.Query("CREATE KEYSPACE ks2 WITH replication = {}"), 5)
    assert result == R.SchemaChangeResult("CREATED", "KEYSPACE", "ks2")
    env = control.recv()
    assert env.stream == -1 and env.header.version == 0x84
    assert env.message == M.Event("SCHEMA_CHANGE", "CREATED", "KEYSPACE", "ks2")
    # neither the DDL connection nor the STATUS_CHANGE subscriber gets it
    other.sock.settimeout(0.3)
    ddl.sock.settimeout(0.3)
    assert other.recv() is None and ddl.recv() is None
    for c in (control, other, ddl):
        c.close()


def test_many_connections_at_once(fake_server):
    errors = []

    def client(n):
        try:
            c = WireClient(fake_server.address)
            c.startup()
            for i in range(20):
                c.send(M.Query("SELECT * FROM ks.t"), i)
            seen = set()
            for _ in range(20):
                env = c.recv()
                assert isinstance(env.message, R.RowsResult)
                seen.add(env.stream)
            assert seen == set(range(20))
            c.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


def test_max_in_flight_applies_backpressure(fake_backend):
    opts = ServerOptions(port=0, max_in_flight=2, workers=4)
    with ServerThread(fake_backend, opts) as server:
        c = WireClient(server.address)
        c.startup()
        start = time.monotonic()
        for i in range(6):
            c.send(M.Query("SLEEP 0.1"), i + 1)
        streams = {c.recv().stream for _ in range(6)}
        elapsed = time.monotonic() - start
        assert streams == set(range(1, 7))
        assert elapsed >= 0.28           # at most two at a time: three rounds of 0.1 s
        c.close()


def test_idle_timeout_closes_quiet_connections(fake_backend):
    with ServerThread(fake_backend, ServerOptions(port=0, idle_timeout=0.3)) as server:
        busy = WireClient(server.address)
        busy.startup()
        busy.send(M.Query("SLEEP 0.6"), 1)      # a request in progress is not idleness
        idle = WireClient(server.address)
        assert idle.is_closed(wait=2.0)
        assert isinstance(busy.recv().message, R.VoidResult)
        busy.close()


def test_lz4_compression_negotiated(fake_backend):
    with ServerThread(fake_backend, ServerOptions(port=0, compression=("lz4",))) as server:
        c = WireClient(server.address)
        supported = c.request(M.Options())
        assert supported.options["COMPRESSION"] == ["lz4"]
        lz4 = LZ4Compressor()
        c.send(M.Startup({"CQL_VERSION": "3.4.7", "COMPRESSION": "lz4"}), 1)
        env = c.recv(compressor=lz4)
        assert isinstance(env.message, M.Ready)
        c.send(M.Query("SELECT * FROM ks.t"), 2, compressor=lz4)
        env = c.recv(compressor=lz4)
        assert env.header.flags & 0x01 and isinstance(env.message, R.RowsResult)
        c.send(M.Query("SELECT * FROM ks.t"), 3)      # uncompressed frames are still accepted
        assert isinstance(c.recv(compressor=lz4).message, R.RowsResult)
        c.close()


def test_password_authentication(fake_backend):
    opts = ServerOptions(port=0, authenticator=PasswordAuthenticator({"alice": "secret"}))
    with ServerThread(fake_backend, opts) as server:
        c = WireClient(server.address)
        auth = c.request(M.Startup(), 1)
        assert auth == M.Authenticate("org.apache.cassandra.auth.PasswordAuthenticator")
        err = c.request(M.Query("SELECT * FROM ks.t"), 2)
        assert err.code == 0x000A and "expecting SASL response" in err.message
        err = c.request(M.AuthResponse(b"\x00alice\x00wrong"), 3)
        assert err == EM.ErrorMessage(0x0100, "Provided username alice and/or password are incorrect")
        assert isinstance(c.request(M.AuthResponse(b"\x00alice\x00secret"), 4), M.AuthSuccess)
        assert isinstance(c.request(M.Query("SELECT * FROM ks.t"), 5), R.RowsResult)
        c.close()


def _garbage(rng: random.Random) -> bytes:
    """A malformed or truncated frame of one of several kinds."""
    kind = rng.randrange(6)
    opcode = rng.choice([0x01, 0x05, 0x07, 0x09, 0x0A, 0x0B, 0x0D, 0x0F, 0x42])
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    if kind == 0:       # random body for a real opcode
        return encode_frame(4, 0, rng.randrange(100), opcode, body)
    if kind == 1:       # header claims more than is sent, then the client hangs up
        return encode_frame(4, 0, 1, opcode, body)[:-1] if body else b"\x04\x00"
    if kind == 2:       # plain noise
        return body + b"\x00" * 9
    if kind == 3:       # a valid QUERY cut short inside the body
        frame = F.encode_message(M.Query("SELECT * FROM ks.t", M.QueryParameters(values=[b"1"] * 5)), 1)
        cut = rng.randrange(9, len(frame))
        return frame[:9] + frame[9:cut].ljust(len(frame) - 9, b"\xff")
    if kind == 4:       # random flags, version and opcode
        return encode_frame(rng.randrange(256), rng.randrange(256), 0, rng.randrange(256), body)
    return encode_frame(4, 0, 0, 0x07, b"\xff\xff\xff\xf0" + body)   # negative [long string]


def test_fuzz_malformed_frames_leave_other_connections_working(fake_server, caplog):
    caplog.set_level("INFO", logger="cqlpy.protocol")
    rng = random.Random(1234)
    healthy = WireClient(fake_server.address)
    healthy.startup()
    for round_ in range(60):
        bad = WireClient(fake_server.address, timeout=2.0)
        if rng.random() < 0.5:
            bad.startup()
        bad.send_raw(_garbage(rng))
        bad.sock.settimeout(0.2)
        try:
            bad.sock.recv(65536)
        except OSError:
            pass
        bad.close()
        if round_ % 10 == 0:
            assert isinstance(healthy.request(M.Query("SELECT * FROM ks.t"), round_ % 100), R.RowsResult)
    assert isinstance(healthy.request(M.Options(), 7), M.Supported)
    fresh = WireClient(fake_server.address)
    fresh.startup()
    assert isinstance(fresh.request(M.Query("SELECT * FROM ks.t"), 1), R.RowsResult)
    fresh.close()
    healthy.close()
    # every malformed frame is a handled protocol error, never an unexpected exception
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert any("Protocol error" in r.getMessage() for r in caplog.records)


def test_stop_closes_connections_and_waits_for_running_requests(fake_backend):
    server = ServerThread(fake_backend, ServerOptions(port=0)).start()
    c = WireClient(server.address)
    c.startup()
    c.send(M.Query("SLEEP 0.2"), 1)
    time.sleep(0.05)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 5
    assert c.is_closed(wait=1.0)
    with pytest.raises(OSError):
        WireClient(server.address, timeout=1.0)


# --- limits (issue 6): frame size, requests in flight, connections; each over real sockets -----------

def test_default_max_frame_size_is_16_mib_and_closes_only_that_connection(fake_backend):
    assert ServerOptions().max_frame_size == 16 * 1024 * 1024
    with ServerThread(fake_backend, ServerOptions(port=0)) as server:
        other = WireClient(server.address)
        other.startup()
        big = WireClient(server.address)
        big.startup()
        # a QUERY header claiming 16 MiB + 1 of body: refused before any of the body is read
        big.send_raw(encode_frame(4, 0, 9, 0x07, b"")[:5] + (16 * 1024 * 1024 + 1).to_bytes(4, "big"))
        env = big.recv()
        assert env.stream == 9 and env.message.code == 0x000A
        assert env.message.message == ("Request is too big: length 16777217 exceeds maximum allowed "
                                       "length 16777216.")
        assert big.is_closed(wait=2.0)
        assert isinstance(other.request(M.Query("SELECT * FROM ks.t"), 3), R.RowsResult)
        other.close()


def test_max_connections_refuses_clients_beyond_the_cap(fake_backend):
    with ServerThread(fake_backend, ServerOptions(port=0, max_connections=2)) as server:
        first, second = WireClient(server.address), WireClient(server.address)
        first.startup()
        second.startup()
        third = WireClient(server.address)         # accepted by the kernel, closed by the server
        assert third.is_closed(wait=2.0)
        assert isinstance(first.request(M.Query("SELECT * FROM ks.t"), 1), R.RowsResult)
        second.close()
        deadline = time.monotonic() + 5            # the server notices the close asynchronously
        while True:
            fourth = WireClient(server.address)
            try:
                fourth.startup()
                break
            except (AssertionError, OSError):
                fourth.close()
                assert time.monotonic() < deadline, "a slot freed by a closed client is never reused"
                time.sleep(0.05)
        assert isinstance(fourth.request(M.Query("SELECT * FROM ks.t"), 2), R.RowsResult)
        first.close()
        fourth.close()


def test_pipelined_requests_beyond_max_in_flight_all_answered(fake_backend):
    """1000 EXECUTEs in one write with at most 8 running: the rest wait in the read buffer and
    every one is answered on its own stream with its own value."""
    with ServerThread(fake_backend, ServerOptions(port=0, max_in_flight=8, workers=2)) as server:
        c = WireClient(server.address)
        c.startup()
        prepared = c.request(M.Prepare("SELECT * FROM ks.t WHERE k = ?"), 1)
        frames = [F.encode_message(M.Execute(prepared.query_id, M.QueryParameters(
            values=[i.to_bytes(4, "big")])), i % 30000) for i in range(1000)]
        c.send_raw(b"".join(frames))
        seen = {}
        for _ in range(1000):
            env = c.recv()
            assert isinstance(env.message, R.RowsResult)
            seen.setdefault(env.stream, []).append(int.from_bytes(env.message.rows[0][0], "big"))
        assert sorted(v for vs in seen.values() for v in vs) == list(range(1000))
        assert all(v % 30000 == s for s, vs in seen.items() for v in vs)
        c.close()


def test_malformed_request_after_ready_is_a_protocol_error_for_that_connection_only(fake_server):
    healthy = WireClient(fake_server.address)
    healthy.startup()
    bad = WireClient(fake_server.address)
    bad.startup()
    good = F.encode_message(M.Query("SELECT * FROM ks.t"), 4)
    # an EXECUTE whose [short bytes] id claims 200 bytes of a 3-byte body
    bad.send_raw(good + encode_frame(4, 0, 5, 0x0A, b"\x00\xc8\x01"))
    answers = {}
    for _ in range(2):
        env = bad.recv()
        answers[env.stream] = env.message
    assert isinstance(answers[4], R.RowsResult)        # the request before it is still answered
    assert answers[5].code == 0x000A and "Not enough bytes" in answers[5].message
    assert bad.is_closed(wait=2.0)
    assert isinstance(healthy.request(M.Query("SELECT * FROM ks.t"), 6), R.RowsResult)
    healthy.close()



def test_fast_answer_is_not_held_behind_a_slow_request_queued_after_it(fake_backend):
    """One worker, three requests in one write: SLEEP 0.3, a fast query, SLEEP 1.5.  Answers are
    handed to the loop in batches, but the first two leave while the long one runs."""
    with ServerThread(fake_backend, ServerOptions(port=0, workers=1)) as server:
        c = WireClient(server.address)
        c.startup()
        c.send_raw(F.encode_message(M.Query("SLEEP 0.3"), 1)
                   + F.encode_message(M.Query("SELECT * FROM ks.t"), 2)
                   + F.encode_message(M.Query("SLEEP 1.5"), 3))
        start = time.monotonic()
        first_two = {c.recv().stream, c.recv().stream}
        assert first_two == {1, 2}
        assert time.monotonic() - start < 1.2
        assert c.recv().stream == 3
        c.close()



def test_cqlpy_profile_writes_the_threads_profile_on_close(fake_backend, tmp_path, monkeypatch):
    import pstats
    path = tmp_path / "server.prof"
    monkeypatch.setenv("CQLPY_PROFILE", str(path))
    with ServerThread(fake_backend, ServerOptions(port=0)) as server:
        c = WireClient(server.address)
        c.startup()
        assert isinstance(c.request(M.Query("SELECT * FROM ks.t"), 1), R.RowsResult)
        c.close()
    functions = {f"{name}" for (_, _, name) in pstats.Stats(str(path)).stats}
    assert "query" in functions              # the backend call, made on a worker thread
    assert "data_received" in functions      # the event loop thread


def test_client_gone_with_requests_running_releases_its_session(fake_backend, caplog):
    """A client that pipelines requests and hangs up before the answers: the requests finish, the
    connection's backend session is closed, nothing is logged as an error, others carry on."""
    caplog.set_level("INFO", logger="cqlpy.protocol")
    with ServerThread(fake_backend, ServerOptions(port=0)) as server:
        c = WireClient(server.address)
        c.startup()
        c.send_raw(b"".join(F.encode_message(M.Query("SLEEP 0.01"), i) for i in range(20)))
        c.close()
        deadline = time.monotonic() + 10
        while fake_backend.closed_connections < 1:
            assert time.monotonic() < deadline, "the backend session of a gone client stays open"
            time.sleep(0.02)
        other = WireClient(server.address)
        other.startup()
        assert isinstance(other.request(M.Query("SELECT * FROM ks.t"), 1), R.RowsResult)
        other.close()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
