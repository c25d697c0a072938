"""Cross-check with cassandra-driver's own codec: what the driver sends, cqlpy decodes; what cqlpy
sends, the driver decodes (no sockets)."""
import datetime
import decimal
import uuid

import pytest

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra import protocol as P  # noqa: E402
from cassandra.query import BatchType as DriverBatchType  # noqa: E402

from cqlpy import errors as E  # noqa: E402
from cqlpy.protocol import error_messages as EM  # noqa: E402
from cqlpy.protocol import framing as F  # noqa: E402
from cqlpy.protocol import messages as M  # noqa: E402
from cqlpy.protocol import results as R  # noqa: E402
from cqlpy.protocol.frame import NOT_SET, LZ4Compressor, parse_header  # noqa: E402
from cqlpy.schema import codec  # noqa: E402
from cqlpy.schema.types import parse_type  # noqa: E402


def driver_frame(msg, stream=3, compressor=None):
    return P.ProtocolHandler.encode_message(msg, stream, 4, compressor, False)


def ours(frame, compressor=None):
    return F.decode_message(parse_header(frame), frame[9:], compressor=compressor).message


def to_driver(msg, stream=3, result_metadata=None):
    frame = F.encode_message(msg, stream)
    h = parse_header(frame)
    return P.ProtocolHandler.decode_message(4, {}, h.stream, h.flags, h.opcode, frame[9:], None,
                                            result_metadata)


def test_driver_requests_decode():
    m = ours(driver_frame(P.StartupMessage("3.4.7", {"DRIVER_NAME": "x"})))
    assert m == M.Startup({"CQL_VERSION": "3.4.7", "DRIVER_NAME": "x"})
    assert ours(driver_frame(P.OptionsMessage())) == M.Options()
    q = ours(driver_frame(P.QueryMessage("SELECT * FROM t;", ConsistencyLevel.ONE,
                                         ConsistencyLevel.SERIAL, 100, None, 1234)))
    assert q == M.Query("SELECT * FROM t;", M.QueryParameters(1, None, None, False, 100, None, 8, 1234))
    q = ours(driver_frame(P.QueryMessage("q", ConsistencyLevel.LOCAL_ONE, None, 3, b"state", 5)))
    assert q.params.paging_state == b"state" and q.params.page_size == 3 and q.params.consistency == 10
    e = ours(driver_frame(P.ExecuteMessage(b"\x01" * 16, [b"\x00\x00\x00\x01", None, P._UNSET_VALUE],
                                           ConsistencyLevel.LOCAL_ONE, fetch_size=5000, timestamp=9)))
    assert e == M.Execute(b"\x01" * 16, M.QueryParameters(10, [b"\x00\x00\x00\x01", None, NOT_SET],
                                                          None, False, 5000, None, None, 9))
    b = ours(driver_frame(P.BatchMessage(DriverBatchType.UNLOGGED,
                                         [(False, "INSERT ...", [b"1"]), (True, b"id", [])],
                                         ConsistencyLevel.QUORUM, ConsistencyLevel.LOCAL_SERIAL, 77)))
    assert b == M.Batch(1, [M.BatchStatement("INSERT ...", None, [b"1"]), M.BatchStatement(None, b"id", [])],
                        4, 9, 77)
    assert ours(driver_frame(P.PrepareMessage("SELECT ?"))) == M.Prepare("SELECT ?")
    assert ours(driver_frame(P.RegisterMessage(["SCHEMA_CHANGE"]))) == M.Register(["SCHEMA_CHANGE"])
    assert ours(driver_frame(P.AuthResponseMessage(b"\x00u\x00p"))) == M.AuthResponse(b"\x00u\x00p")


def test_driver_lz4_frames():
    from cassandra.connection import locally_supported_compressions
    compress, decompress = locally_supported_compressions["lz4"]
    frame = driver_frame(P.QueryMessage("SELECT " + "x" * 500, ConsistencyLevel.ONE), compressor=compress)
    assert frame[1] & 0x01
    assert ours(frame, LZ4Compressor()).query == "SELECT " + "x" * 500
    packed = F.encode_message(R.SetKeyspaceResult("k" * 300), 1, compressor=LZ4Compressor())
    h = parse_header(packed)
    msg = P.ProtocolHandler.decode_message(4, {}, 1, h.flags, h.opcode, packed[9:], decompress, None)
    assert msg.new_keyspace == "k" * 300


VALUES = [
    ("int", -5), ("bigint", 1 << 40), ("text", "héllo"), ("ascii", "a"), ("blob", b"\x00\xff"),
    ("boolean", True), ("double", 1.5), ("float", 0.25), ("uuid", uuid.UUID(int=7)),
    ("timestamp", datetime.datetime(2024, 1, 2, 3, 4, 5)), ("date", datetime.date(2020, 2, 29)),
    ("decimal", decimal.Decimal("1.25")), ("varint", -(1 << 70)), ("smallint", -2), ("tinyint", 3),
    ("list<int>", [1, 2]), ("set<text>", {"a"}), ("map<text, int>", {"a": 1}),
    ("tuple<int, text>", (1, "x")), ("frozen<list<frozen<map<int, text>>>>", [{1: "a"}]),
]


@pytest.mark.parametrize("type_text,value", VALUES, ids=[v[0] for v in VALUES])
def test_rows_decode_in_driver(type_text, value):
    t = parse_type(type_text)
    rows = R.RowsResult([R.ColumnSpec("ks", "t", "c", t)], [[codec.serialize(t, value)], [None]], b"ps")
    msg = to_driver(rows)
    assert msg.column_names == ["c"] and msg.paging_state == b"ps"
    got = msg.parsed_rows[0][0]
    if isinstance(value, set):
        got = set(got)
    if isinstance(value, dict):
        got = dict(got)
    if type_text.startswith("frozen<list<frozen<map"):
        got = [dict(x) for x in got]
    assert got == value
    assert msg.parsed_rows[1][0] is None


def test_prepared_decodes_in_driver():
    ks_t = lambda n, t: R.ColumnSpec("ks", "t", n, parse_type(t))  # noqa: E731
    p = R.PreparedResult(b"\x05" * 16, [ks_t("k", "int"), ks_t("c", "text")], [0],
                         [ks_t("k", "int"), ks_t("v", "map<text, int>")])
    msg = to_driver(p)
    assert msg.query_id == b"\x05" * 16 and msg.pk_indexes == [0]
    assert [c[2] for c in msg.bind_metadata] == ["k", "c"] and msg.bind_metadata[0][0] == "ks"
    assert [c[2] for c in msg.column_metadata] == ["k", "v"]
    void = to_driver(R.PreparedResult(b"\x06", [], [], None))
    assert void.bind_metadata == [] and not void.column_metadata


def test_schema_change_and_events_decode_in_driver():
    msg = to_driver(R.SchemaChangeResult("CREATED", "TABLE", "ks", "t"))
    assert msg.schema_change_event == {"change_type": "CREATED", "target_type": "TABLE",
                                       "keyspace": "ks", "table": "t"}
    ev = to_driver(M.Event("SCHEMA_CHANGE", "DROPPED", "KEYSPACE", "ks"), stream=-1)
    assert ev.event_type == "SCHEMA_CHANGE" and ev.event_args["keyspace"] == "ks"
    ev = to_driver(M.Event("STATUS_CHANGE", "UP", address="127.0.0.1", port=9042), stream=-1)
    assert ev.event_args == {"change_type": "UP", "address": ("127.0.0.1", 9042)}
    fn = to_driver(R.SchemaChangeResult("CREATED", "FUNCTION", "ks", "f", ("int", "text")))
    assert fn.schema_change_event["function"].argument_types == ["int", "text"]


@pytest.mark.parametrize("exc,summary", [
    (E.Unavailable("u", "QUORUM", 3, 1), "Unavailable exception"),
    (E.WriteTimeout("w", "ALL", 1, 3, "CAS"), "Coordinator node timed out waiting for replica nodes' responses"),
    (E.ReadTimeout("r", "TWO", 1, 2, True), "Coordinator node timed out waiting for replica nodes' responses"),
    (E.ReadFailure("rf", "ONE", 0, 1, 1, False), "Replica(s) failed to execute read"),
    (E.WriteFailure("wf", "ONE", 0, 1, 2, "COUNTER"), "Replica(s) failed to execute write"),
    (E.FunctionFailure("f"), "User Defined Function failure"),
    (E.AlreadyExists("ks", "t"), "Item already exists"),
    (E.Unprepared("", b"\x01\x02"), "Matching prepared statement not found on this node"),
    (E.SyntaxException("line 1:0 x"), "Syntax error in CQL query"),
    (E.InvalidRequest("table t does not exist"), "Invalid query"),
    (E.ProtocolError("bad"), "Protocol error"),
    (E.AuthenticationFailed("no"), "Bad credentials"),
    (E.ServerError("bug"), "Server error"),
])
def test_errors_decode_in_driver(exc, summary):
    msg = to_driver(EM.ErrorMessage.from_exception(exc))
    assert msg.code == type(exc).code and msg.summary == summary and msg.message == str(exc)
    if isinstance(exc, E.Unavailable):
        assert msg.info == {"consistency": ConsistencyLevel.QUORUM, "required_replicas": 3, "alive_replicas": 1}
    if isinstance(exc, E.AlreadyExists):
        assert msg.info == {"keyspace": "ks", "table": "t"}
    if isinstance(exc, E.Unprepared):
        assert msg.info == b"\x01\x02"
    if isinstance(exc, E.WriteTimeout):
        assert msg.info["write_type"] == P.WriteType.CAS


def test_version_refusal_downgrades_driver():
    msg = to_driver(EM.ErrorMessage(0x000A, "Invalid or unsupported protocol version (66); supported versions are (4/v4)"))
    # cassandra/connection.py (process_msg) steps down on exactly this test
    assert isinstance(msg, P.ProtocolException) and "unsupported protocol version" in msg.message
