"""Lightweight transactions on a ring of three ``cqlpy-server`` processes (127.0.0.1-3, RF 3): the
driver races conflicting LWTs through different coordinators at once; Paxos lets exactly one win,
and a compare-and-set loop loses no update.  Every process is stopped in a ``finally``."""
import threading
import time

import pytest

from server_processes import (NodeProcess, driver_cluster, free_ports, loopback_binds, shut_down,
                              start_ring, until)

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel, InvalidRequest, WriteTimeout  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2/127.0.0.3 do not bind here")
def test_conflicting_lwts_through_three_coordinators(tmp_path):
    started = time.monotonic()
    native, storage = free_ports(ADDRESSES, 2)
    nodes = [NodeProcess(tmp_path, a, native, storage, seeds=ADDRESSES[0]) for a in ADDRESSES]
    clusters = []
    try:
        start_ring(nodes)
        admin = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.QUORUM, only=ADDRESSES[0])
        clusters.append(admin)
        s0 = admin.connect()
        s0.execute("CREATE KEYSPACE ks WITH replication = "
                   "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        s0.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
        s0.execute("CREATE TABLE ks.c (k int PRIMARY KEY, v text)")
        sessions = []
        for node in nodes:                      # one session pinned to each coordinator
            cluster = driver_cluster(node.address, native, ConsistencyLevel.QUORUM,
                                     only=node.address)
            clusters.append(cluster)
            session = cluster.connect()
            until(lambda session=session: _has_table(session), 15,
                  f"the schema on {node.address}")
            sessions.append(session)

        # --- every coordinator races IF NOT EXISTS on the same keys, at the same moment ------------
        keys = range(6)
        results: dict[tuple[int, int], tuple[bool, str | None, int]] = {}
        barrier = threading.Barrier(len(sessions))

        def racer(i: int) -> None:
            session = sessions[i]
            insert = session.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS")
            mine = f"node{i}"
            for k in keys:
                barrier.wait(30)
                timeouts = 0
                while True:                     # a CAS timeout is an unknown outcome: retry
                    try:
                        row = session.execute(insert, (k, mine)).one()
                    except WriteTimeout:
                        timeouts += 1
                        continue
                    results[(k, i)] = (row[0], None if row[0] else row.v, timeouts)
                    break

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(len(sessions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == len(keys) * len(sessions), results
        serial = SimpleStatement("SELECT v FROM ks.t WHERE k = %s",
                                 consistency_level=ConsistencyLevel.SERIAL)
        for k in keys:
            outcome = {i: results[(k, i)] for i in range(len(sessions))}
            applied = [i for i, (ok, _v, _t) in outcome.items() if ok]
            assert len(applied) <= 1, outcome
            final = sessions[1].execute(serial, (k,)).one().v
            owners = [i for i, (ok, v, t) in outcome.items() if ok or (t and v == f"node{i}")]
            assert owners == [int(final[4:])], (k, outcome, final)
            assert all(v == final for ok, v, _t in outcome.values() if not ok)
            for session in sessions:            # every coordinator, at SERIAL and at QUORUM
                assert session.execute(serial, (k,)).one().v == final
                assert session.execute("SELECT v FROM ks.t WHERE k = %s", (k,)).one().v == final

        # --- a compare-and-set loop from the three coordinators: no lost update --------------------
        s0.execute("INSERT INTO ks.c (k, v) VALUES (0, '') IF NOT EXISTS")
        outcomes: dict[str, str] = {}
        lock = threading.Lock()

        def incrementer(i: int) -> None:
            session = sessions[i]
            update = session.prepare("UPDATE ks.c SET v = ? WHERE k = 0 IF v = ?")
            read = session.prepare("SELECT v FROM ks.c WHERE k = 0")
            read.consistency_level = ConsistencyLevel.SERIAL
            current = session.execute(read).one().v
            for n in range(8):
                op = f"{i}.{n}"
                new = f"{current},{op}" if current else op
                try:
                    row = session.execute(update, (new, current)).one()
                except WriteTimeout:
                    with lock:
                        outcomes[op] = "unknown"
                    current = session.execute(read).one().v
                    continue
                with lock:
                    outcomes[op] = "applied" if row[0] else "refused"
                current = new if row[0] else row.v

        threads = [threading.Thread(target=incrementer, args=(i,)) for i in range(len(sessions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        final = sessions[2].execute(SimpleStatement(
            "SELECT v FROM ks.c WHERE k = 0", consistency_level=ConsistencyLevel.SERIAL)).one().v
        history = final.split(",") if final else []
        applied = {op for op, o in outcomes.items() if o == "applied"}
        unknown = {op for op, o in outcomes.items() if o == "unknown"}
        assert len(outcomes) == 24
        assert len(history) == len(set(history))
        assert applied <= set(history) <= applied | unknown, (outcomes, history)
        assert len(applied) >= 8

        # --- result shapes, LOCAL_SERIAL, and levels a conditional update refuses -------------------
        rs = sessions[0].execute("UPDATE ks.t SET v = 'x' WHERE k = 0 IF v = 'nope'")
        assert rs.one()[0] is False and rs.one().v == final_of(sessions[0], 0)
        local = SimpleStatement("UPDATE ks.t SET v = 'local' WHERE k = 100 IF EXISTS",
                                serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL)
        assert tuple(sessions[2].execute(local).one()) == (False,)
        with pytest.raises(InvalidRequest, match="commit consistency"):
            sessions[1].execute(SimpleStatement(
                "INSERT INTO ks.t (k, v) VALUES (200, 'a') IF NOT EXISTS",
                consistency_level=ConsistencyLevel.SERIAL))
        with pytest.raises(InvalidRequest, match="one partition at a time"):
            sessions[0].execute(SimpleStatement("SELECT * FROM ks.t",
                                                consistency_level=ConsistencyLevel.SERIAL))
        for node in nodes:                      # every replica's acceptor kept durable state
            assert (node.data / "paxos" / "paxos.log").stat().st_size > 1000
        assert time.monotonic() - started < 60
    finally:
        shut_down(clusters, nodes)


def final_of(session, k: int) -> str:
    return session.execute(SimpleStatement("SELECT v FROM ks.t WHERE k = %s",
                                           consistency_level=ConsistencyLevel.SERIAL), (k,)).one().v


def _has_table(session) -> bool:
    try:
        session.execute("SELECT v FROM ks.c WHERE k = 0")
    except Exception:  # noqa: BLE001 - not there yet
        return False
    return True
