"""Consistency levels on a standalone ``cqlpy-server`` (a node of one), through cassandra-driver.

Cassandra's single node counts its replicas against the request's level: TWO on RF 1, or QUORUM
on RF 3, is Unavailable; SERIAL is no write level; system tables answer at any level.
"""
import pytest
from server_processes import ServerProcess

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel, InvalidRequest, Unavailable  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.policies import FallthroughRetryPolicy, RoundRobinPolicy  # noqa: E402
from cassandra.query import BatchStatement, SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

CL = ConsistencyLevel


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    node = ServerProcess(tmp_path_factory.mktemp("cl-node"))
    cluster = None
    try:
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(),
                                   retry_policy=FallthroughRetryPolicy())
        cluster = Cluster(["127.0.0.1"], port=node.port, protocol_version=4,
                          execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        s = cluster.connect()
        for ks, rf in (("rf1", 1), ("rf3", 3)):
            s.execute(f"CREATE KEYSPACE {ks} WITH replication = "
                      f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}")
            s.execute(f"CREATE TABLE {ks}.t (k int, c int, v text, PRIMARY KEY (k, c))")
        s.execute("CREATE KEYSPACE nts WITH replication = "
                  "{'class': 'NetworkTopologyStrategy', 'datacenter1': 3}")
        s.execute("CREATE TABLE nts.t (k int PRIMARY KEY, v text)")
        yield s
    finally:
        if cluster is not None:
            cluster.shutdown()
        node.kill()
        assert "Traceback" not in node.text()


def run(session, cql, level, values=None, serial=None):
    return session.execute(SimpleStatement(cql, consistency_level=level,
                                           serial_consistency_level=serial), values)


def test_two_on_rf1_is_unavailable_with_counts(session):
    with pytest.raises(Unavailable) as err:
        run(session, "INSERT INTO rf1.t (k, c, v) VALUES (1, 1, 'a')", CL.TWO)
    assert err.value.consistency == CL.TWO
    assert (err.value.required_replicas, err.value.alive_replicas) == (2, 1)
    assert "Cannot achieve consistency level TWO" in str(err.value)
    with pytest.raises(Unavailable) as err:
        run(session, "SELECT * FROM rf1.t WHERE k = 1", CL.THREE)
    assert (err.value.required_replicas, err.value.alive_replicas) == (3, 1)
    # nothing was written by the refused statement
    assert run(session, "SELECT * FROM rf1.t WHERE k = 1", CL.ONE).all() == []


def test_quorum_on_rf3_is_unavailable_but_one_works(session):
    for cql in ("INSERT INTO rf3.t (k, c, v) VALUES (1, 1, 'a')", "SELECT * FROM rf3.t WHERE k = 1",
                "SELECT * FROM rf3.t"):
        for level, required in ((CL.QUORUM, 2), (CL.ALL, 3), (CL.LOCAL_QUORUM, 2),
                                (CL.EACH_QUORUM, 2)):
            if level == CL.EACH_QUORUM and cql.startswith("SELECT"):
                continue            # Cassandra refuses EACH_QUORUM reads on SimpleStrategy anyway
            with pytest.raises(Unavailable) as err:
                run(session, cql, level)
            assert err.value.consistency == level
            assert (err.value.required_replicas, err.value.alive_replicas) == (required, 1)
    run(session, "INSERT INTO rf3.t (k, c, v) VALUES (1, 1, 'a')", CL.ONE)
    assert [r.v for r in run(session, "SELECT * FROM rf3.t WHERE k = 1", CL.LOCAL_ONE)] == ["a"]
    assert [r.v for r in run(session, "SELECT * FROM rf3.t", CL.ONE)] == ["a"]


def test_network_topology_counts_the_local_datacenter(session):
    with pytest.raises(Unavailable) as err:
        run(session, "INSERT INTO nts.t (k, v) VALUES (1, 'a')", CL.LOCAL_QUORUM)
    assert (err.value.required_replicas, err.value.alive_replicas) == (2, 1)
    run(session, "INSERT INTO nts.t (k, v) VALUES (1, 'a')", CL.LOCAL_ONE)
    assert run(session, "SELECT v FROM nts.t WHERE k = 1", CL.ONE).one().v == "a"


def test_quorum_and_all_on_rf1_work(session):
    run(session, "INSERT INTO rf1.t (k, c, v) VALUES (2, 1, 'q')", CL.QUORUM)
    run(session, "UPDATE rf1.t SET v = 'w' WHERE k = 2 AND c = 2", CL.ALL)
    rows = run(session, "SELECT c, v FROM rf1.t WHERE k = 2", CL.ALL)
    assert [(r.c, r.v) for r in rows] == [(1, "q"), (2, "w")]
    run(session, "INSERT INTO rf1.t (k, c, v) VALUES (3, 1, 'any')", CL.ANY)
    prepared = session.prepare("SELECT v FROM rf1.t WHERE k = ? AND c = ?")
    prepared.consistency_level = CL.QUORUM
    assert session.execute(prepared, (3, 1)).one().v == "any"
    prepared.consistency_level = CL.TWO
    with pytest.raises(Unavailable):
        session.execute(prepared, (3, 1))


def test_serial_is_no_write_level(session):
    for level in (CL.SERIAL, CL.LOCAL_SERIAL):
        with pytest.raises(InvalidRequest, match="You must use conditional updates for "
                                                 "serializable writes"):
            run(session, "INSERT INTO rf1.t (k, c, v) VALUES (4, 1, 'x')", level)
    batch = BatchStatement(consistency_level=CL.SERIAL)
    batch.add(SimpleStatement("INSERT INTO rf1.t (k, c, v) VALUES (4, 2, 'y')"))
    with pytest.raises(InvalidRequest, match="conditional updates"):
        session.execute(batch)
    assert run(session, "SELECT * FROM rf1.t WHERE k = 4", CL.ONE).all() == []
    # a conditional write at ONE with SERIAL as its serial level is what SERIAL is for
    applied = run(session, "INSERT INTO rf1.t (k, c, v) VALUES (4, 1, 'x') IF NOT EXISTS", CL.ONE,
                  serial=CL.SERIAL)
    assert applied.one()[0] is True


def test_conditional_writes_need_a_serial_quorum(session):
    """Cassandra's Paxos needs a quorum of the replicas whatever the commit level: IF NOT EXISTS at
    ONE on RF 3 is Unavailable at SERIAL on a node of one; SERIAL is no commit level."""
    for serial in (CL.SERIAL, CL.LOCAL_SERIAL):
        with pytest.raises(Unavailable) as err:
            run(session, "INSERT INTO rf3.t (k, c, v) VALUES (6, 1, 'x') IF NOT EXISTS", CL.ONE,
                serial=serial)
        assert err.value.consistency == serial
        assert (err.value.required_replicas, err.value.alive_replicas) == (2, 1)
    assert run(session, "SELECT * FROM rf3.t WHERE k = 6", CL.ONE).all() == []
    with pytest.raises(InvalidRequest, match="SERIAL is not supported as conditional update "
                                             "commit consistency"):
        run(session, "INSERT INTO rf1.t (k, c, v) VALUES (6, 1, 'x') IF NOT EXISTS", CL.SERIAL)
    applied = run(session, "UPDATE rf1.t SET v = 'y' WHERE k = 6 AND c = 1 IF EXISTS", CL.QUORUM,
                  serial=CL.LOCAL_SERIAL)
    assert applied.one()[0] is False


def test_serial_reads_one_partition_at_a_time(session):
    run(session, "INSERT INTO rf1.t (k, c, v) VALUES (5, 1, 's')", CL.ONE)
    assert run(session, "SELECT v FROM rf1.t WHERE k = 5", CL.SERIAL).one().v == "s"
    assert run(session, "SELECT v FROM rf1.t WHERE k IN (5)", CL.LOCAL_SERIAL).one().v == "s"
    message = "SERIAL/LOCAL_SERIAL consistency may only be requested for one partition at a time"
    with pytest.raises(InvalidRequest, match=message):
        run(session, "SELECT v FROM rf1.t WHERE k IN (5, 6)", CL.SERIAL)
    with pytest.raises(InvalidRequest, match=message):
        run(session, "SELECT v FROM rf1.t", CL.SERIAL)
    # a serial read needs a quorum of the replicas for its Paxos round
    with pytest.raises(Unavailable) as err:
        run(session, "SELECT v FROM rf3.t WHERE k = 1", CL.SERIAL)
    assert (err.value.consistency, err.value.required_replicas) == (CL.SERIAL, 2)


def test_system_tables_answer_at_any_level(session):
    for level in (CL.ALL, CL.THREE, CL.EACH_QUORUM, CL.QUORUM):
        assert run(session, "SELECT release_version FROM system.local", level).one()
        assert run(session, "SELECT keyspace_name FROM system_schema.keyspaces", level).all()
        assert run(session, "SELECT role FROM system_auth.roles", level).all()
