"""Every message encodes and decodes to itself; error bodies carry their code's fields."""
import uuid

import pytest

from cqlpy import errors as E
from cqlpy.protocol import error_messages as EM
from cqlpy.protocol import framing as F
from cqlpy.protocol import messages as M
from cqlpy.protocol import results as R
from cqlpy.protocol.frame import NOT_SET, Consistency, LZ4Compressor, parse_header
from cqlpy.schema.types import parse_type


def cols(*specs):
    return [R.ColumnSpec("ks", "t", n, parse_type(t)) for n, t in specs]


MESSAGES = [
    M.Startup({"CQL_VERSION": "3.4.7", "COMPRESSION": "lz4"}),
    M.Options(),
    M.Query("SELECT 1", M.QueryParameters()),
    M.Query("q", M.QueryParameters(Consistency.LOCAL_ONE, [b"a", None, NOT_SET], None, True, 100,
                                   b"state", Consistency.LOCAL_SERIAL, 1700000000000000)),
    M.Query("q", M.QueryParameters(values=[b"1", NOT_SET], names=["a", "b"])),
    M.Prepare("SELECT * FROM ks.t WHERE k = ?"),
    M.Execute(b"\x01" * 16, M.QueryParameters(Consistency.ONE, [b"\x00"], page_size=5000)),
    M.Batch(2, [M.BatchStatement("UPDATE c SET n = n + 1", values=[]),
                M.BatchStatement(query_id=b"id", values=[b"1", None])], Consistency.QUORUM, None, 7),
    M.Register(["SCHEMA_CHANGE"]),
    M.AuthResponse(b"\x00u\x00p"),
    M.Ready(),
    M.Authenticate(),
    M.Supported({"CQL_VERSION": ["3.4.7"], "COMPRESSION": []}),
    M.AuthChallenge(b"c"),
    M.AuthSuccess(None),
    M.Event("SCHEMA_CHANGE", "CREATED", "TABLE", "ks", "t"),
    M.Event("SCHEMA_CHANGE", "DROPPED", "FUNCTION", "ks", "f", ("int", "text")),
    M.Event("TOPOLOGY_CHANGE", "NEW_NODE", address="127.0.0.2", port=9042),
    M.Event("STATUS_CHANGE", "DOWN", address="::1", port=9042),
    R.VoidResult(),
    R.RowsResult(cols(("k", "int"), ("m", "map<text, frozen<list<int>>>")), [[b"\x00\x00\x00\x01", None]]),
    R.RowsResult([R.ColumnSpec("a", "b", "x", parse_type("int")),
                  R.ColumnSpec("c", "d", "y", parse_type("tuple<int, text>"))], [], b"more"),
    R.SetKeyspaceResult("ks"),
    R.PreparedResult(b"\x02" * 16, cols(("k", "int"), ("c", "text")), [0], cols(("v", "blob"))),
    R.PreparedResult(b"\x03" * 16, [], [], None),
    R.SchemaChangeResult("UPDATED", "TYPE", "ks", "addr"),
    R.SchemaChangeResult("DROPPED", "AGGREGATE", "ks", "a", ("int",)),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(msg, compress):
    c = LZ4Compressor() if compress else None
    frame = F.encode_message(msg, 17, compressor=c)
    header = parse_header(frame)
    assert header.version == (0x04 if msg.is_request else 0x84)
    assert header.stream == 17 and header.length == len(frame) - 9
    env = F.decode_message(header, frame[9:], compressor=c)
    assert env.message == msg


def test_rows_metadata_bytes():
    rows = R.RowsResult(cols(("k", "int")), [[b"\x00\x00\x00\x05"]])
    body = F.encode_message(rows, 1)[9:]
    assert body == bytes.fromhex(
        "00000002"            # kind Rows
        "00000001 00000001"   # flags Global_tables_spec, 1 column
        "0002 6b73 0001 74"   # ks, t
        "0001 6b 0009"        # k int
        "00000001 00000004 00000005".replace(" ", ""))


def test_prepared_metadata_bytes():
    p = R.PreparedResult(b"\xaa", cols(("k", "int")), [0], None)
    body = F.encode_message(p, 1)[9:]
    assert body == bytes.fromhex(
        "00000004 0001 aa"            # kind Prepared, id
        "00000001 00000001 00000001 0000"   # global, 1 bind, 1 pk index: 0
        "0002 6b73 0001 74 0001 6b 0009"    # ks.t k int
        "00000004 00000000".replace(" ", ""))  # result metadata: No_metadata, 0 columns


def test_warnings_and_tracing_prefixes():
    rows = R.VoidResult()
    rows.warnings = ["Aggregation query used without partition key"]
    tid = uuid.uuid4()
    frame = F.encode_message(rows, 3, tracing_id=tid, custom_payload={"k": b"v"})
    header = parse_header(frame)
    assert header.flags == 0x02 | 0x08 | 0x04
    env = F.decode_message(header, frame[9:])
    assert env.tracing_id == tid and env.warnings == rows.warnings and env.custom_payload == {"k": b"v"}


ERRORS = [
    E.ServerError("bug"), E.ProtocolError("bad"), E.AuthenticationFailed("no"),
    E.Unavailable("u", "QUORUM", 3, 1), E.Overloaded("o"), E.IsBootstrapping("b"), E.TruncateError("t"),
    E.WriteTimeout("w", "ALL", 1, 3, "CAS"), E.ReadTimeout("r", "TWO", 1, 2, True),
    E.ReadFailure("rf", "ONE", 0, 1, 1, False), E.FunctionFailure("f"),
    E.WriteFailure("wf", "ONE", 0, 1, 2, "COUNTER"), E.SyntaxException("line 1:0 x"),
    E.Unauthorized("u"), E.InvalidRequest("table t does not exist"), E.ConfigurationException("c"),
    E.AlreadyExists("ks", "t"), E.AlreadyExists("ks"), E.Unprepared("", b"\x01\x02"),
]


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_error_round_trip(exc):
    msg = EM.ErrorMessage.from_exception(exc)
    assert msg.code == type(exc).code
    frame = F.encode_message(msg, 2)
    back = F.decode_message(parse_header(frame), frame[9:]).message
    assert back == msg
    again = back.to_exception()
    assert type(again) is type(exc) and str(again) == str(exc)
    for attr in ("consistency", "required", "alive", "received", "block_for", "write_type",
                 "data_present", "failures", "keyspace", "table", "statement_id"):
        if hasattr(exc, attr):
            assert getattr(again, attr) == getattr(exc, attr), attr


def test_error_bytes_unavailable():
    body = F.encode_message(EM.ErrorMessage.from_exception(E.Unavailable("x", "QUORUM", 2, 1)), 0)[9:]
    assert body == bytes.fromhex("00001000 0001 78 0004 00000002 00000001")


def test_unknown_write_type_is_sent_as_simple():
    msg = EM.ErrorMessage.from_exception(E.WriteTimeout("w", "ONE", 0, 1, "WEIRD"))
    assert msg.fields["write_type"] == "SIMPLE"


def test_non_cql_exception_is_server_error():
    msg = EM.ErrorMessage.from_exception(ValueError("x"))
    assert msg.code == 0 and "ValueError" in msg.message
