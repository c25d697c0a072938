"""Frame header and body notations: byte layouts, round trips, and strict bounds."""
import uuid

import pytest

from cqlpy.protocol.frame import (
    NOT_SET,
    BodyReader,
    BodyWriter,
    Consistency,
    FrameError,
    Header,
    LZ4Compressor,
    encode_frame,
    parse_header,
)


def test_header_layout():
    frame = encode_frame(0x84, 0x08, -1, 0x0C, b"abc")
    assert frame == bytes.fromhex("84 08 ffff 0c 00000003") + b"abc"
    h = parse_header(frame)
    assert h == Header(0x84, 0x08, -1, 0x0C, 3)
    assert h.is_response and h.protocol_version == 4
    assert h.pack() == frame[:9]


def test_header_errors():
    with pytest.raises(FrameError):
        parse_header(b"\x04\x00\x00")
    with pytest.raises(FrameError, match="Invalid frame body length -2"):
        parse_header(bytes.fromhex("04 00 0000 05 fffffffe"))


@pytest.mark.parametrize("write,read,value,hexbytes", [
    ("write_byte", "read_byte", 0xAB, "ab"),
    ("write_short", "read_short", 0xFFFE, "fffe"),
    ("write_int", "read_int", -2, "fffffffe"),
    ("write_long", "read_long", 1 << 40, "0000010000000000"),
    ("write_string", "read_string", "hé", "0003 68c3a9"),
    ("write_long_string", "read_long_string", "ab", "00000002 6162"),
    ("write_bytes", "read_bytes", b"\x01", "00000001 01"),
    ("write_bytes", "read_bytes", None, "ffffffff"),
    ("write_value", "read_value", None, "ffffffff"),
    ("write_value", "read_value", NOT_SET, "fffffffe"),
    ("write_value", "read_value", b"", "00000000"),
    ("write_short_bytes", "read_short_bytes", b"\xde\xad", "0002 dead"),
    ("write_string_list", "read_string_list", ["a", "bc"], "0002 0001 61 0002 6263"),
    ("write_string_map", "read_string_map", {"k": "v"}, "0001 0001 6b 0001 76"),
    ("write_string_multimap", "read_string_multimap", {"k": ["v"]}, "0001 0001 6b 0001 0001 76"),
    ("write_bytes_map", "read_bytes_map", {"k": None}, "0001 0001 6b ffffffff"),
    ("write_consistency", "read_consistency", Consistency.LOCAL_ONE, "000a"),
])
def test_notations(write, read, value, hexbytes):
    w = BodyWriter()
    getattr(w, write)(value)
    assert w.getvalue() == bytes.fromhex(hexbytes.replace(" ", ""))
    r = BodyReader(w.getvalue())
    assert getattr(r, read)() == value
    assert r.remaining == 0


def test_inet_and_uuid():
    w = BodyWriter()
    w.write_inet("127.0.0.1", 9042)
    w.write_inet("::1", 7000)
    u = uuid.uuid4()
    w.write_uuid(u)
    data = w.getvalue()
    assert data[:9] == bytes.fromhex("04 7f000001 00002352")
    r = BodyReader(data)
    assert r.read_inet() == ("127.0.0.1", 9042)
    assert r.read_inet() == ("::1", 7000)
    assert r.read_uuid() == u


@pytest.mark.parametrize("read,data", [
    ("read_int", "0000"),
    ("read_string", "0005 6162"),
    ("read_long_string", "ffffffff"),
    ("read_bytes", "00000010 00"),
    ("read_value", "fffffffd"),
    ("read_string_list", "7fff 0001 61"),        # a count the bytes cannot hold
    ("read_string_map", "0002 0001 61 0001 62"),
    ("read_inet", "05 0102030405 00000000"),
    ("read_consistency", "0042"),
    ("read_string", "0002 c328"),                 # invalid UTF-8
])
def test_bounds(read, data):
    with pytest.raises(FrameError):
        getattr(BodyReader(bytes.fromhex(data.replace(" ", ""))), read)()


def test_string_too_long_to_write():
    with pytest.raises(FrameError):
        BodyWriter().write_string("x" * 70000)


def test_lz4_round_trip_and_limits():
    c = LZ4Compressor()
    body = b"hello " * 1000
    packed = c.compress(body)
    assert packed[:4] == len(body).to_bytes(4, "big") and len(packed) < len(body)
    assert c.decompress(packed, 1 << 20) == body
    with pytest.raises(FrameError):
        c.decompress(packed, 100)                    # claims more than the limit
    with pytest.raises(FrameError):
        c.decompress(packed[:4] + b"\xff\xff", 1 << 20)
    assert c.decompress(b"\x00\x00\x00\x00", 10) == b""
