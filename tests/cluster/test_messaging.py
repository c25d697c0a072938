"""Internode frames and payloads (round trips, truncation, corruption) and TCP messaging on loopback."""
from __future__ import annotations

import asyncio
import socket
import threading
import uuid

import pytest

from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.messaging import (
    FLAG_EXPECTS_RESPONSE,
    FLAG_RESPONSE,
    FRAME_VERSION,
    MAGIC,
    PREFIX,
    FrameError,
    IncompleteFrame,
    Message,
    RequestFailureReason,
    Verb,
    decode_frame,
    decode_value,
    encode_frame,
    encode_value,
)
from cqlpy.cluster.messaging_tcp import TcpMessagingService

SENDER = Endpoint.of("127.0.0.2", 7001)

VALUES = [
    None, True, False, 0, -1, 2**63 - 1, -(2**63), 2**64, -(2**200), 1.5, -0.0, "", "héllo ✓",
    b"", b"\x00\xff" * 10, uuid.UUID(int=12345), [], [1, [2, [3, None]]],
    {"a": 1, 2: "b", b"k": [1.0], None: {}, uuid.UUID(int=1): True},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_payload_round_trip(value):
    assert decode_value(encode_value(value)) == value


def test_tuples_encode_as_lists():
    assert decode_value(encode_value((1, (2, 3)))) == [1, [2, 3]]


@pytest.mark.parametrize("value", [{1, 2}, object(), {(1, 2): 3}, {"x": [set()]}])
def test_unencodable_payloads_are_refused(value):
    with pytest.raises(TypeError):
        encode_value(value)


def test_payload_nesting_is_bounded():
    value: list = []
    for _ in range(40):
        value = [value]
    with pytest.raises(ValueError):
        encode_value(value)
    with pytest.raises(FrameError):
        decode_value(b"\x09\x00\x00\x00\x01" * 40 + b"\x00")


@pytest.mark.parametrize("data", [b"", b"\x42", b"\x03\x00", b"\x06\x00\x00\x00\x05ab",
                                  b"\x09\xff\xff\xff\xff", b"\x0a\x00\x00\x00\x01\x09\x00\x00\x00\x00\x00",
                                  b"\x06\x00\x00\x00\x01\xff", b"\x00\x00"])
def test_bad_payloads_raise_frame_error(data):
    with pytest.raises(FrameError):
        decode_value(data)


def sample_message(payload=None) -> Message:
    payload = {"digests": [["127.0.0.1", 7000, uuid.UUID(int=7)]], "n": 3} if payload is None else payload
    return Message(Verb.GOSSIP_DIGEST_SYN, payload, 2**40 + 5, FLAG_EXPECTS_RESPONSE, SENDER)


def test_frame_round_trip_and_layout():
    message = sample_message()
    frame = encode_frame(message)
    magic, version, length = PREFIX.unpack_from(frame)
    assert (magic, version) == (MAGIC, FRAME_VERSION)
    assert len(frame) == PREFIX.size + length + 4
    decoded, used = decode_frame(frame + b"next frame")
    assert used == len(frame)
    assert decoded == message
    assert decoded.sender.host_id == SENDER.host_id and decoded.expects_response


def test_response_flags_survive():
    message = Message(Verb.ECHO_RSP, None, 9, FLAG_RESPONSE, SENDER)
    decoded, _ = decode_frame(encode_frame(message))
    assert decoded.is_response and not decoded.is_failure and decoded.verb is Verb.ECHO_RSP


def test_every_truncation_is_incomplete():
    frame = encode_frame(sample_message())
    for cut in range(len(frame)):
        with pytest.raises(IncompleteFrame):
            decode_frame(frame[:cut])


def test_every_single_byte_corruption_is_rejected():
    frame = encode_frame(sample_message())
    for position in range(len(frame)):
        for flip in (0x01, 0x80, 0xFF):
            corrupt = bytearray(frame)
            corrupt[position] ^= flip
            with pytest.raises(FrameError):     # IncompleteFrame too, when the length grew
                decode_frame(bytes(corrupt))


def test_frame_size_limit():
    big = sample_message(b"x" * 5000)
    with pytest.raises(ValueError):
        encode_frame(big, max_frame_size=1000)
    frame = encode_frame(big)
    with pytest.raises(FrameError, match="exceeds"):
        decode_frame(frame, max_frame_size=1000)


def test_message_without_sender_cannot_be_framed():
    with pytest.raises(ValueError):
        encode_frame(Message(Verb.ECHO_REQ))


def test_verbs_fit_in_a_byte_and_pair_with_responses():
    assert all(0 <= v < 256 for v in Verb)
    assert Verb.MUTATION_REQ.response_verb is Verb.MUTATION_RSP
    assert Verb.SCHEMA_PUSH_REQ.response_verb is Verb.REQUEST_RSP
    assert Verb.MUTATION_REQ.timeout == 2.0 and Verb.READ_REQ.timeout == 5.0


# --- TCP ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(coro, timeout: float = 10.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


async def start_nodes(n: int, **kwargs) -> list[TcpMessagingService]:
    services = []
    for _ in range(n):
        service = TcpMessagingService(Endpoint.of("127.0.0.1", free_port()), **kwargs)
        await service.start()
        services.append(service)
    return services


def echo_handler(service):
    return lambda m: service.respond(m, {"echo": m.payload, "by": str(service.local)})


def test_tcp_request_response_and_one_way():
    async def scenario():
        a, b, c = await start_nodes(3)
        try:
            for s in (b, c):
                s.register_handler(Verb.ECHO_REQ, echo_handler(s))
            seen = []
            b.register_handler(Verb.MUTATION_REQ, lambda m: seen.append((m.sender, m.payload)))
            loop = asyncio.get_running_loop()
            answers = {}
            done = loop.create_future()

            def got(m):
                answers[str(m.sender)] = m.payload
                if len(answers) == 3 and not done.done():
                    done.set_result(None)
            for target in (b, c, a):          # a -> a is loopback delivery
                if target is a:
                    a.register_handler(Verb.ECHO_REQ, echo_handler(a))
                a.send_with_callback(target.local, Verb.ECHO_REQ, [1, "x"], got)
            a.send(b.local, Verb.MUTATION_REQ, {"k": b"\x01"})
            await done
            assert answers[str(b.local)] == {"echo": [1, "x"], "by": str(b.local)}
            assert set(answers) == {str(a.local), str(b.local), str(c.local)}
            while not seen:
                await asyncio.sleep(0.01)
            assert seen == [(a.local, {"k": b"\x01"})]
            assert a.pending_requests == 0
        finally:
            for s in (a, b, c):
                await s.close()
    run(scenario())


def test_tcp_failures_timeouts_and_missing_handlers():
    async def scenario():
        a, b = await start_nodes(2)
        try:
            def boom(m):
                raise RuntimeError("bad request")
            b.register_handler(Verb.READ_REQ, boom)
            b.register_handler(Verb.RANGE_REQ, lambda m: None)      # never answers
            failures = asyncio.Queue()
            on_failure = lambda ep, reason, detail: failures.put_nowait((ep, reason, detail))  # noqa: E731
            a.send_with_callback(b.local, Verb.READ_REQ, None, lambda m: None, on_failure)
            ep, reason, detail = await failures.get()
            assert ep == b.local and reason is RequestFailureReason.UNKNOWN and "bad request" in detail
            a.send_with_callback(b.local, Verb.TRUNCATE_REQ, None, lambda m: None, on_failure)
            _, reason, detail = await failures.get()
            assert reason is RequestFailureReason.UNKNOWN and "no handler" in detail
            a.send_with_callback(b.local, Verb.RANGE_REQ, None, lambda m: None, on_failure, timeout=0.2)
            _, reason, _ = await failures.get()
            assert reason is RequestFailureReason.TIMEOUT
            assert a.pending_requests == 0
        finally:
            await a.close()
            await b.close()
    run(scenario())


def test_tcp_reconnects_after_the_peer_restarts():
    async def scenario():
        a, b = await start_nodes(2, reconnect_backoff=(0.01, 0.05))
        got = asyncio.Queue()
        b.register_handler(Verb.MUTATION_REQ, lambda m: got.put_nowait(m.payload))
        try:
            a.send(b.local, Verb.MUTATION_REQ, 1)
            assert await got.get() == 1
            await b.close()
            failures = asyncio.Queue()
            a.send_with_callback(b.local, Verb.MUTATION_REQ, 2, lambda m: None,
                                 lambda *args: failures.put_nowait(args[1]), timeout=0.3)
            assert await failures.get() is RequestFailureReason.TIMEOUT
            b2 = TcpMessagingService(b.local)
            await b2.start()
            got2 = asyncio.Queue()
            b2.register_handler(Verb.MUTATION_REQ, lambda m: got2.put_nowait(m.payload))
            try:
                for attempt in range(100):     # frames sent while reconnecting may be dropped
                    a.send(b.local, Verb.MUTATION_REQ, 3)
                    try:
                        assert await asyncio.wait_for(got2.get(), 0.1) == 3
                        break
                    except asyncio.TimeoutError:
                        continue
                else:
                    pytest.fail("never reconnected")
            finally:
                await b2.close()
        finally:
            await a.close()
    run(scenario())


def test_tcp_corrupt_connection_does_not_break_others():
    async def scenario():
        a, b = await start_nodes(2)
        got = asyncio.Queue()
        b.register_handler(Verb.MUTATION_REQ, lambda m: got.put_nowait(m.payload))
        try:
            reader, writer = await asyncio.open_connection(b.local.address, b.local.port)
            frame = bytearray(encode_frame(Message(Verb.MUTATION_REQ, "evil", 1, 0, SENDER)))
            frame[-1] ^= 0xFF
            writer.write(bytes(frame))
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 5) == b""       # b closed that connection
            writer.close()
            r2, w2 = await asyncio.open_connection(b.local.address, b.local.port)
            w2.write(b"\x00" * 20)                                         # bad magic
            await w2.drain()
            assert await asyncio.wait_for(r2.read(), 5) == b""
            w2.close()
            r3, w3 = await asyncio.open_connection(b.local.address, b.local.port)
            w3.write(encode_frame(Message(Verb.MUTATION_REQ, "half", 1, 0, SENDER))[:10])
            await w3.drain()
            a.send(b.local, Verb.MUTATION_REQ, "fine")                    # a's connection is unaffected
            assert await asyncio.wait_for(got.get(), 5) == "fine"
            assert got.empty()
            w3.close()
        finally:
            await a.close()
            await b.close()
    run(scenario())


def test_tcp_send_from_another_thread():
    async def scenario():
        a, b = await start_nodes(2)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        b.register_handler(Verb.PING_REQ, lambda m: b.respond(m, "pong"))
        try:
            def worker():
                a.send_with_callback(b.local, Verb.PING_REQ, None,
                                     lambda m: done.set_result((m.payload, threading.get_ident())))
            thread = threading.Thread(target=worker)
            thread.start()
            payload, ident = await done
            thread.join()
            assert payload == "pong" and ident == threading.get_ident()    # callbacks run on the loop
        finally:
            await a.close()
            await b.close()
    run(scenario())


def test_tcp_unreachable_peer_drops_and_close_is_clean():
    async def scenario():
        (a,) = await start_nodes(1, connect_timeout=0.2, reconnect_backoff=(0.01, 0.02))
        nowhere = Endpoint.of("127.0.0.1", free_port())
        failures = asyncio.Queue()
        a.send_with_callback(nowhere, Verb.ECHO_REQ, None, lambda m: None,
                             lambda *args: failures.put_nowait(args[1]), timeout=0.3)
        assert await failures.get() is RequestFailureReason.TIMEOUT
        assert a.dropped >= 1
        await a.close()
        await a.close()                                                   # idempotent
        a.send(nowhere, Verb.ECHO_REQ, None)                              # ignored after close
    run(scenario())
