"""Test helpers for the protocol: a blocking frame client, a scripted fake backend, transcripts.

Transcript files (tests/fixtures/protocol/*.txt) script one connection each; ``---`` starts a new
connection (same server).  Lines::

    # comment
    >> STREAM MESSAGE            a request, MESSAGE being a Python expression over the message classes
    >> STREAM v=0x42 MESSAGE     the same with another version byte in the header
    >> RAW HEX                   raw bytes (spaces allowed), for malformed frames
    << STREAM MESSAGE            an expected response (v=0x84 unless given)
    << CLOSED                    the server closes the connection (after the responses above)

Consecutive ``>>`` lines are sent back to back (pipelined); the ``<<`` lines after them are matched
by stream id, in any order.  Names available in expressions: every message and result class, T
(parse_type), C (ColumnSpec), QP (QueryParameters), Consistency, NOT_SET, ks_t(name, type) for a
ks.t column.
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from cqlpy import errors as E
from cqlpy.protocol import error_messages as EM
from cqlpy.protocol import framing as F
from cqlpy.protocol import messages as M
from cqlpy.protocol import results as R
from cqlpy.protocol.frame import HEADER_SIZE, NOT_SET, Consistency, parse_header
from cqlpy.schema.types import parse_type

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "protocol"


class WireClient:
    """A blocking client that speaks frames (no driver): send messages, read envelopes."""

    def __init__(self, address: tuple[str, int], timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, msg: M.Message, stream: int = 0, version: int = 4, compressor: Any = None) -> None:
        frame = F.encode_message(msg, stream, compressor=compressor)
        self.sock.sendall(bytes([version]) + frame[1:])

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, compressor: Any = None) -> F.Envelope | None:
        """The next frame, decoded; None when the server closed the connection."""
        raw = self._read(HEADER_SIZE)
        if raw is None:
            return None
        header = parse_header(raw)
        body = self._read(header.length)
        if body is None:
            return None
        return F.decode_message(header, body, compressor=compressor)

    def request(self, msg: M.Message, stream: int = 0) -> M.Message:
        self.send(msg, stream)
        env = self.recv()
        assert env is not None, "connection closed"
        assert env.stream == stream
        return env.message

    def startup(self) -> None:
        assert isinstance(self.request(M.Startup()), M.Ready)

    def is_closed(self, wait: float = 2.0) -> bool:
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self) -> None:
        self.sock.close()


# --- a scripted backend --------------------------------------------------------------------------------

def ks_t(name: str, type_text: str) -> R.ColumnSpec:
    return R.ColumnSpec("ks", "t", name, parse_type(type_text))


INT = parse_type("int")
TEXT = parse_type("text")
PAGED_ROWS = 7


class FakeConnection:
    """Answers a fixed repertoire of statements (see FakeBackend)."""

    def __init__(self, backend: "FakeBackend") -> None:
        self.backend = backend
        self.keyspace: str | None = None

    def query(self, query: str, params: M.QueryParameters) -> R.Result:
        b = self.backend
        b.calls.append(("query", query, params))
        q = query.strip().rstrip(";")
        if q.startswith("SLEEP "):
            time.sleep(float(q.split()[1]))
            return R.VoidResult()
        if q == "SELECT * FROM ks.t":
            return R.RowsResult([ks_t("k", "int"), ks_t("v", "text")],
                                [[b"\x00\x00\x00\x01", b"one"], [b"\x00\x00\x00\x02", None]])
        if q == "SELECT * FROM ks.pages":
            start = int(params.paging_state or b"0")
            size = params.page_size if params.page_size and params.page_size > 0 else PAGED_ROWS
            end = min(start + size, PAGED_ROWS)
            rows = [[i.to_bytes(4, "big")] for i in range(start, end)]
            state = str(end).encode() if end < PAGED_ROWS else None
            return R.RowsResult([R.ColumnSpec("ks", "pages", "k", INT)], rows, state)
        if q.startswith("USE "):
            self.keyspace = q[4:].strip('"')
            return R.SetKeyspaceResult(self.keyspace)
        if q.startswith("CREATE KEYSPACE "):
            change = R.SchemaChangeResult("CREATED", "KEYSPACE", q.split()[2])
            b.notify(change)
            return change
        if q.startswith("INSERT"):
            return R.VoidResult()
        if q == "UNAVAILABLE":
            raise E.Unavailable("Cannot achieve consistency level QUORUM", "QUORUM", 2, 1)
        if q == "WRITE_TIMEOUT":
            raise E.WriteTimeout("", "LOCAL_QUORUM", 1, 2, "BATCH")
        if q == "READ_TIMEOUT":
            raise E.ReadTimeout("", "ONE", 0, 1, True)
        if q == "EXISTS":
            raise E.AlreadyExists("ks", "t")
        if q == "CRASH":
            raise RuntimeError("boom")
        raise E.SyntaxException(f"line 1:0 no viable alternative at input '{q.split()[0]}'")

    def prepare(self, query: str) -> R.PreparedResult:
        import hashlib
        qid = hashlib.md5(query.encode()).digest()
        self.backend.prepared[qid] = query
        return R.PreparedResult(qid, [ks_t("k", "int")], [0], [ks_t("k", "int"), ks_t("v", "text")])

    def execute(self, query_id: bytes, params: M.QueryParameters) -> R.Result:
        if query_id not in self.backend.prepared:
            raise E.Unprepared("", query_id)
        self.backend.calls.append(("execute", query_id, params))
        return R.RowsResult([ks_t("k", "int"), ks_t("v", "text")], [[params.values[0], b"x"]])

    def batch(self, batch: M.Batch) -> R.Result:
        self.backend.calls.append(("batch", batch))
        for st in batch.statements:
            if st.query_id is not None and st.query_id not in self.backend.prepared:
                raise E.Unprepared("", st.query_id)
        return R.VoidResult()

    def close(self) -> None:
        self.backend.closed_connections += 1


class FakeBackend:
    """A Backend without a database: canned answers, recorded calls, schema listeners."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.prepared: dict[bytes, str] = {}
        self.listeners: list[Any] = []
        self.closed_connections = 0
        self.lock = threading.Lock()

    def open(self) -> FakeConnection:
        return FakeConnection(self)

    def add_schema_listener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def notify(self, change: R.SchemaChangeResult) -> None:
        for fn in self.listeners:
            fn(change)

    def close(self) -> None:
        pass


# --- transcripts -----------------------------------------------------------------------------------

NAMES: dict[str, Any] = {name: getattr(M, name) for name in dir(M) if not name.startswith("_")}
NAMES.update({name: getattr(R, name) for name in dir(R) if not name.startswith("_")})
NAMES["ErrorMessage"] = EM.ErrorMessage
NAMES.update(T=parse_type, C=R.ColumnSpec, QP=M.QueryParameters, Consistency=Consistency,
             NOT_SET=NOT_SET, ks_t=ks_t)


def _parse_line(rest: str) -> tuple[int, int | None, str]:
    stream_text, _, rest = rest.strip().partition(" ")
    version = None
    if rest.startswith("v="):
        v, _, rest = rest.partition(" ")
        version = int(v[2:], 0)
    return int(stream_text), version, rest.strip()


def load_transcripts(path: Path) -> list[list[str]]:
    """The connections of a transcript file: lists of meaningful lines."""
    sections: list[list[str]] = [[]]
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line == "---":
            sections.append([])
        else:
            sections[-1].append(line)
    return [s for s in sections if s]


def run_transcript(address: tuple[str, int], lines: list[str]) -> None:
    client = WireClient(address)
    try:
        i = 0
        while i < len(lines):
            while i < len(lines) and lines[i].startswith(">>"):
                body = lines[i][2:].strip()
                if body.startswith("RAW "):
                    client.send_raw(bytes.fromhex(body[4:].replace(" ", "")))
                else:
                    stream, version, expr = _parse_line(body)
                    client.send(eval(expr, dict(NAMES)), stream, version or 4)
                i += 1
            expected: dict[int, tuple[int, Any]] = {}
            closed = False
            while i < len(lines) and lines[i].startswith("<<"):
                body = lines[i][2:].strip()
                if body == "CLOSED":
                    closed = True
                else:
                    stream, version, expr = _parse_line(body)
                    expected[stream] = (version or 0x84, eval(expr, dict(NAMES)))
                i += 1
            for _ in range(len(expected)):
                env = client.recv()
                assert env is not None, f"connection closed; still expected {expected}"
                assert env.stream in expected, f"unexpected response on stream {env.stream}: {env.message}"
                version, message = expected.pop(env.stream)
                assert env.header.version == version, (hex(env.header.version), hex(version))
                assert env.message == message, f"stream {env.stream}:\n got {env.message!r}\nwant {message!r}"
            if closed:
                assert client.is_closed(), "the server kept the connection open"
    finally:
        client.close()
