"""cqlpy-nodetool without a ring: the admin channel's framing and error handling (in-process), the
output formats (Cassandra's layouts), key text conversion, and the command line's exit codes.
The real processes are in tests/integration/test_nodetool.py."""
import asyncio
import datetime
import json
import socket
import struct
import types
import uuid

import pytest

from cqlpy import nodetool
from cqlpy.node_admin import MAX_REQUEST, AdminError, AdminServer, value_from_text
from cqlpy.schema.types import NativeType


def _stub_node():
    return types.SimpleNamespace(ring=None, backend=None, server=None,
                                 config=types.SimpleNamespace(listen="127.0.0.1"))


async def _exchange(port: int, data: bytes) -> tuple[dict | None, bool]:
    """Send raw bytes; the reply (if any) and whether the server then closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    reply = None
    try:
        (n,) = struct.unpack(">I", await asyncio.wait_for(reader.readexactly(4), 5))
        reply = json.loads(await asyncio.wait_for(reader.readexactly(n), 5))
        closed = await asyncio.wait_for(reader.read(1), 5) == b""
    finally:
        writer.close()
    return reply, closed


def _frame(obj) -> bytes:
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def test_admin_channel_bad_requests_close_only_their_connection():
    async def scenario():
        server = AdminServer(_stub_node(), "127.0.0.1", 0)
        await server.start()
        port = server.address[1]
        try:
            reply, closed = await _exchange(port, struct.pack(">I", 5) + b"nope!")
            assert reply["ok"] is False and "not JSON" in reply["error"] and closed
            reply, closed = await _exchange(port, struct.pack(">I", MAX_REQUEST + 1))
            assert reply["ok"] is False and "exceeds the limit" in reply["error"] and closed
            reply, closed = await _exchange(port, _frame({"cmd": "__import__('os')"}))
            assert reply["ok"] is False and "unknown command" in reply["error"] and closed
            reply, closed = await _exchange(port, _frame(["status"]))
            assert reply["ok"] is False and closed
            reply, closed = await _exchange(port, _frame({"cmd": "status", "args": [1]}))
            assert reply["ok"] is False and "strings" in reply["error"] and closed
            # the server still answers, and a connection carries several requests
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for request in ({"cmd": "getendpoints", "args": ["ks"]},
                            {"cmd": "removenode", "args": ["status"]}):
                writer.write(_frame(request))
                (n,) = struct.unpack(">I", await reader.readexactly(4))
                reply = json.loads(await reader.readexactly(n))
            assert reply == {"ok": True, "result": "RemovalStatus: No removals in process."}
            writer.close()
        finally:
            await server.close()

    asyncio.run(scenario())


def _node(address, dc, up=True, state="Normal", owns=0.5, rack="rack1"):
    return {"address": address, "port": 7000, "host_id": str(uuid.UUID(int=1)), "dc": dc,
            "rack": rack, "up": up, "state": state, "load": 1536.0, "tokens": 16, "owns": owns}


def test_status_layout_groups_by_datacenter():
    text = nodetool.format_status({"nodes": [_node("127.0.0.2", "dc2", up=False),
                                             _node("127.0.0.1", "dc1", state="Leaving")],
                                   "note": None})
    lines = text.splitlines()
    assert lines[:5] == [
        "Datacenter: dc1", "===============", "Status=Up/Down",
        "|/ State=Normal/Leaving/Joining/Moving",
        "--  Address    Load       Tokens  Owns (effective)  Host ID"
        "                               Rack"]
    assert lines[5] == ("UL  127.0.0.1  1.50 KiB   16      50.0%             "
                        "00000000-0000-0000-0000-000000000001  rack1")
    assert lines[7] == "Datacenter: dc2"
    assert lines[12].startswith("DN  127.0.0.2  ")


def test_status_without_effective_ownership_prints_question_mark_and_note():
    text = nodetool.format_status({"nodes": [_node("127.0.0.1", "dc1", owns=None)],
                                   "note": "Non-system keyspaces don't have the same replication "
                                           "settings, effective ownership information is "
                                           "meaningless"})
    line = [ln for ln in text.splitlines() if ln.startswith("UN")][0]
    assert "  ?  " in line
    assert text.rstrip().endswith("meaningless") and "Note: Non-system keyspaces" in text


def test_file_sizes_as_cassandra_prints_them():
    assert nodetool.file_size(0) == "0 bytes"
    assert nodetool.file_size(2048) == "2.00 KiB"
    assert nodetool.file_size(3 * 2**30) == "3.00 GiB"
    assert nodetool.file_size(None) == "?"


def test_key_text_conversion():
    assert value_from_text(NativeType("int"), "42") == 42
    assert value_from_text(NativeType("text"), "a:b") == "a:b"
    assert value_from_text(NativeType("uuid"), str(uuid.UUID(int=5))) == uuid.UUID(int=5)
    assert value_from_text(NativeType("blob"), "0x0aff") == b"\x0a\xff"
    assert value_from_text(NativeType("boolean"), "TRUE") is True
    assert value_from_text(NativeType("date"), "2024-02-29") == datetime.date(2024, 2, 29)
    with pytest.raises(ValueError):
        value_from_text(NativeType("int"), "x")
    assert issubclass(AdminError, Exception)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_exit_codes(capsys):
    port = _closed_port()
    assert nodetool.main(["-p", str(port), "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nodetool: Failed to connect to '127.0.0.1:") and err.count("\n") == 1
    assert nodetool.main(["-p", str(port), "getendpoints", "ks"]) == 2
    assert "takes 3 argument(s)" in capsys.readouterr().err
    assert nodetool.main(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err
