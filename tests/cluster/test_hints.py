"""Hinted handoff: the on-disk format (CRC'd records, torn tails, corruption), the 3 h window, replay on
on_alive, and hints that survive a restart of the node that holds them."""
from __future__ import annotations

import os
import uuid

import pytest

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.hints import (
    HEADER_SIZE,
    Hint,
    LoggingReporter,
    encode_header,
    encode_record,
    hints_file_name,
    parse_hints_file_name,
    read_hints_file,
)
from cqlpy.engine.serialization import decode_update, encode_update

from .sim_cluster import KEYSPACE, TABLE_ID, SimCluster, row_update, values

HOST = uuid.UUID("11111111-2222-3333-4444-555555555555")


def write_file(path, records: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(encode_header(HOST, 1234) + b"".join(records))


# --- the file format ---------------------------------------------------------------------------------

def test_file_names_round_trip():
    name = hints_file_name(HOST, 1_700_000_000_123)
    assert name == "11111111-2222-3333-4444-555555555555-1700000000123.hints"
    assert parse_hints_file_name(name) == (HOST, 1_700_000_000_123)
    assert parse_hints_file_name("notes.txt") is None
    assert parse_hints_file_name("x-1.hints") is None


def test_records_round_trip(tmp_path):
    updates = [encode_update(row_update(b"k%d" % i, b"c", b"v", i)) for i in range(3)]
    path = tmp_path / "h.hints"
    write_file(path, [encode_record(10, updates[:2]), encode_record(11, updates[2:])])
    host, hints = read_hints_file(str(path))
    assert host == HOST
    assert hints == [Hint(10, updates[:2]), Hint(11, updates[2:])]
    assert decode_update(hints[1].updates[0]).key == b"k2"


def test_a_torn_tail_ends_the_file_quietly(tmp_path):
    records = [encode_record(i, [b"u%d" % i]) for i in range(3)]
    path = tmp_path / "h.hints"
    whole = encode_header(HOST, 1) + b"".join(records)
    for cut in range(HEADER_SIZE, len(whole)):
        path.write_bytes(whole[:cut])
        reporter = LoggingReporter()
        _, hints = read_hints_file(str(path), reporter)
        assert reporter.events == []
        assert [h.created_ms for h in hints] == list(range(len(hints)))
    path.write_bytes(whole[:HEADER_SIZE - 1])
    assert read_hints_file(str(path)) == (None, [])


def test_a_corrupt_record_is_reported_and_skipped(tmp_path):
    records = [encode_record(i, [b"update-%d" % i]) for i in range(3)]
    data = bytearray(encode_header(HOST, 1) + b"".join(records))
    data[HEADER_SIZE + len(records[0]) + 12] ^= 0xFF     # inside the second record's payload
    path = tmp_path / "h.hints"
    path.write_bytes(bytes(data))
    reporter = LoggingReporter()
    _, hints = read_hints_file(str(path), reporter)
    assert [h.created_ms for h in hints] == [0, 2]
    assert len(reporter.events) == 1 and "checksum" in reporter.events[0][3]
    # a damaged length ends the file, reported
    data = bytearray(encode_header(HOST, 1) + b"".join(records))
    data[HEADER_SIZE + len(records[0])] ^= 0xFF
    path.write_bytes(bytes(data))
    reporter = LoggingReporter()
    _, hints = read_hints_file(str(path), reporter)
    assert [h.created_ms for h in hints] == [0]
    assert "length" in reporter.events[0][3]
    # a bad header: nothing, reported
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    reporter = LoggingReporter()
    assert read_hints_file(str(path), reporter) == (None, [])
    assert len(reporter.events) == 1


# --- in a cluster ------------------------------------------------------------------------------------

@pytest.fixture
def cluster(tmp_path):
    c = SimCluster(tmp_path, n=4, seed=23)
    yield c
    c.close()


def test_hints_are_replayed_as_soon_as_gossip_sees_the_host_alive(cluster):
    key = b"papa"
    down = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    cluster.crash(down)
    coordinator.proxy.write([row_update(key, b"c", b"v", 5)], KEYSPACE, CL.QUORUM)
    coordinator.proxy.write([row_update(key, b"c", b"newer", 6)], KEYSPACE, CL.QUORUM)
    assert coordinator.hints.pending_count(down.endpoint.host_id) == 2
    down.start()
    cluster.run_until(lambda: coordinator.gossiper.is_alive(down.endpoint), 10)
    seen_alive = cluster.scheduler.now
    cluster.run_until(lambda: coordinator.hints.pending_count() == 0, 5)
    assert cluster.scheduler.now - seen_alive < 1.0              # on_alive, not the 10 s timer
    assert values(down.read_local(key)) == {b"c": b"newer"}
    assert os.listdir(coordinator.hints.directory) == []


def test_replay_is_idempotent_and_keeps_original_timestamps(cluster):
    key = b"quebec"
    target = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    old = encode_update(row_update(key, b"c", b"old", 5))
    coordinator.hints.store(target.endpoint, [old])
    coordinator.hints.store(target.endpoint, [old])            # the same hint twice
    coordinator.proxy.write([row_update(key, b"c", b"new", 9)], KEYSPACE, CL.ALL)
    coordinator.hints.dispatch(target.endpoint.host_id)
    cluster.run(1)
    assert coordinator.hints.pending_count() == 0
    assert values(target.read_local(key)) == {b"c": b"new"}  # the old hint did not win
    assert target.read_local(key).rows[0].columns["v"].timestamp == 9


def test_no_hints_after_the_window(cluster):
    key = b"romeo"
    down = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    coordinator.hints.max_hint_window = 30.0
    cluster.crash(down)                                         # takes ~20 s to be seen down
    coordinator.proxy.write([row_update(key, b"a", b"1", 5)], KEYSPACE, CL.QUORUM)
    assert coordinator.hints.pending_count() == 1
    cluster.run(31)
    coordinator.proxy.write([row_update(key, b"b", b"2", 6)], KEYSPACE, CL.QUORUM)
    assert coordinator.hints.pending_count() == 1               # down too long: no new hint
    assert not coordinator.hints.within_window(down.endpoint)
    assert coordinator.hints.within_window(cluster.replicas(key)[1].endpoint)


def test_hints_survive_a_restart_of_their_holder(cluster):
    key = b"sierra"
    down = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    cluster.crash(down)
    for i in range(3):
        coordinator.proxy.write([row_update(key, b"c%d" % i, b"v", 10 + i)], KEYSPACE, CL.QUORUM)
    coordinator.crash()                                         # hints were flushed to the OS
    down.start()
    coordinator.start()
    assert coordinator.hints.pending_count(down.endpoint.host_id) == 3
    cluster.wait_converged()
    cluster.run_until(lambda: coordinator.hints.pending_count() == 0, 15)
    assert values(down.read_local(key)) == {b"c0": b"v", b"c1": b"v", b"c2": b"v"}


def test_a_failed_delivery_keeps_the_hints_for_later(cluster):
    from cqlpy.cluster.messaging import Verb
    key = b"tango"
    target = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    coordinator.hints.store(target.endpoint, [encode_update(row_update(key, b"c", b"v", 5))])
    f = cluster.net.add_filter(lambda s, to, m: m.verb != Verb.HINT_REQ)
    coordinator.hints.dispatch(target.endpoint.host_id)
    cluster.run(3)
    assert coordinator.hints.pending_count() == 1 and target.read_local(key) is None
    cluster.net.remove_filter(f)
    cluster.run(10)                                             # the periodic dispatch retries
    assert coordinator.hints.pending_count() == 0
    assert values(target.read_local(key)) == {b"c": b"v"}
    assert TABLE_ID == decode_update(encode_update(row_update(key, b"c", b"v", 5))).table_id


def test_hints_for_a_node_that_left_are_dropped(cluster):
    from cqlpy.cluster.endpoint_state import ApplicationState as AS, VersionedValueFactory as VVF
    key = b"uniform"
    gone = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    coordinator.hints.store(gone.endpoint, [encode_update(row_update(key, b"c", b"v", 5))])
    assert coordinator.hints.files(gone.endpoint.host_id)
    expire = int((cluster.wall_clock() + 3 * 86400) * 1000)
    gone.gossiper.add_local_application_state(AS.STATUS, VVF.left(gone.storage.tokens, expire))
    cluster.run_until(lambda: not coordinator.storage.token_metadata.is_member(gone.endpoint))
    assert coordinator.hints.pending_count() == 0
    assert os.listdir(coordinator.hints.directory) == []
