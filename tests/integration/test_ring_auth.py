"""Roles across a ring of three ``cqlpy-server --authenticator password`` processes: system_auth is
replicated, so a role created through node 1 logs in through nodes 2 and 3, a dropped one nowhere;
the default superuser exists once; ALTER KEYSPACE system_auth spreads.  Processes stop in ``finally``."""
import time

import pytest

from server_processes import NodeProcess, free_ports, loopback_binds, shut_down, start_ring, until

from cqlpy import errors as cqlpy_errors
from cqlpy.protocol import client as cqlpy_client

cassandra = pytest.importorskip("cassandra")
from cassandra import AuthenticationFailed  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def pinned(address: str, port: int, user: str, password: str) -> Cluster:
    """A driver Cluster that logs in as ``user`` and sends every request to ``address``."""
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]),
                               request_timeout=20)
    return Cluster([address], port=port, protocol_version=4, connect_timeout=10,
                   control_connection_timeout=10, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                   auth_provider=PlainTextAuthProvider(user, password))


def can_log_in(address: str, port: int, user: str, password: str) -> bool:
    """Whether cqlpy's client (one connection, no driver retries) logs in as ``user``."""
    try:
        cqlpy_client.connect(address, port, username=user, password=password).close()
        return True
    except cqlpy_errors.AuthenticationFailed:
        return False


def refused(address: str, port: int, user: str, password: str) -> str:
    """The driver's login error through ``address`` (the test fails if the login succeeds)."""
    cluster = pinned(address, port, user, password)
    try:
        with pytest.raises(NoHostAvailable) as info:
            cluster.connect()
    finally:
        cluster.shutdown()
    (error,) = info.value.errors.values()
    assert isinstance(error, AuthenticationFailed), error
    return str(error)


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2/127.0.0.3 do not bind here")
def test_roles_are_cluster_wide(tmp_path):
    started = time.monotonic()
    native, storage = free_ports(ADDRESSES, 2)
    nodes = [NodeProcess(tmp_path, a, native, storage, seeds=ADDRESSES[0],
                         extra=("--authenticator", "password")) for a in ADDRESSES]
    clusters: list[Cluster] = []
    try:
        start_ring(nodes)                         # the seed first, then the joiners
        # the default superuser, created once for the cluster, logs in everywhere
        for node in nodes:
            until(lambda n=node: can_log_in(n.address, native, "cassandra", "cassandra"), 30,
                  f"cassandra to log in through {node.address}")
        created = sum(n.text().count("Created default superuser role") for n in nodes)
        assert created >= 1

        admin_cluster = pinned(ADDRESSES[0], native, "cassandra", "cassandra")
        clusters.append(admin_cluster)
        admin = admin_cluster.connect()
        (default,) = admin.execute("SELECT role, is_superuser, can_login FROM system_auth.roles")
        assert (default.role, default.is_superuser, default.can_login) == ("cassandra", True, True)
        ks = admin.execute("SELECT replication FROM system_schema.keyspaces "
                           "WHERE keyspace_name = 'system_auth'").one()
        assert ks.replication == {"class": "org.apache.cassandra.locator.SimpleStrategy",
                                  "replication_factor": "1"}

        admin.execute("CREATE ROLE alice WITH PASSWORD = 'alice-pw' AND LOGIN = true")
        for address in ADDRESSES[1:]:             # the role logs in through the other nodes
            # (bounded wait: a node that just joined may reach the others' ring view a gossip
            # round late, and with RF 1 only the key's one replica holds the role)
            until(lambda a=address: can_log_in(a, native, "alice", "alice-pw"), 15,
                  f"alice to log in through {address}")
            cluster = pinned(address, native, "alice", "alice-pw")
            clusters.append(cluster)
            session = cluster.connect()
            local = session.execute("SELECT rpc_address FROM system.local").one()
            assert str(local.rpc_address) == address
            assert [r.role for r in session.execute("LIST ROLES")] == ["alice"]
            cluster.shutdown()
        assert "Provided username alice and/or password are incorrect" in \
            refused(ADDRESSES[2], native, "alice", "wrong")

        admin.execute("DROP ROLE alice")
        for address in ADDRESSES:                 # dropped: refused everywhere
            until(lambda a=address: not can_log_in(a, native, "alice", "alice-pw"), 15,
                  f"alice refused through {address}")
            assert "Provided username alice and/or password are incorrect" in \
                refused(address, native, "alice", "alice-pw")

        # ALTER KEYSPACE system_auth changes its replication on every node
        admin.execute("ALTER KEYSPACE system_auth WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        for node in nodes:
            def altered(n=node):
                with cqlpy_client.connect(n.address, native, username="cassandra",
                                          password="cassandra") as s:
                    row = s.execute("SELECT replication FROM system_schema.keyspaces "
                                    "WHERE keyspace_name = 'system_auth'").one()
                    return row.replication.get("replication_factor") == "3"
            until(altered, 15, f"system_auth at RF 3 on {node.address}")
        admin.execute("CREATE ROLE bob WITH PASSWORD = 'bob-pw' AND LOGIN = true")
        until(lambda: can_log_in(ADDRESSES[2], native, "bob", "bob-pw"), 10, "bob via node 3")
        for node in nodes:
            assert "Traceback" not in node.text()
    finally:
        shut_down(clusters, nodes)
    assert all(n.proc.poll() is not None for n in nodes)
    assert time.monotonic() - started < 60
