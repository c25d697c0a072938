"""An in-process cluster for coordinator tests: real engines in tmp dirs, gossip and messaging over a
SimulatedNetwork with a fake clock.  Everything is seeded; time moves only when a test steps it."""
from __future__ import annotations

import os
import random
import uuid

import cqlpy
from cqlpy.cluster.coordinator import StorageProxy
from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.gossip import Gossiper
from cqlpy.cluster.hints import HintsService
from cqlpy.cluster.paxos import Paxos
from cqlpy.cluster.paxos_state import PaxosStateStore
from cqlpy.cluster.replication import SimpleStrategy
from cqlpy.cluster.simulated_network import SimulatedNetwork
from cqlpy.cluster.storage_service import StorageService
from cqlpy.engine import Engine
from cqlpy.engine.rows import Cell, DeletionTime, PartitionUpdate, Row

EPOCH = 1_700_000_000
TABLE_ID = uuid.UUID("00000000-0000-0000-0000-0000000000aa").bytes
KEYSPACE = SimpleStrategy(3)


def indexed_schema(path: str):
    """An embedded session whose catalog knows the sim's table as CQL: ks.t (k, c, v blobs, the
    sim's table id, RF 3) with the index t_v on v.  The caller closes it."""
    s = cqlpy.connect(path)
    s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
              "'replication_factor': 3}")
    s.execute(f"CREATE TABLE ks.t (k blob, c blob, v blob, PRIMARY KEY (k, c)) "
              f"WITH ID = {uuid.UUID(bytes=TABLE_ID)}")
    s.execute("CREATE INDEX t_v ON ks.t (v)")
    return s


class SimNode:
    """One node: engine + messaging + gossip + ring + hints + coordinator."""

    def __init__(self, cluster: "SimCluster", index: int) -> None:
        self.cluster, self.index = cluster, index
        self.endpoint = cluster.endpoints[index]
        self.data_dir = str(cluster.root / f"node{index + 1}")
        self.incarnation = 0
        self.running = False

    def start(self, *, hints_enabled: bool = True, bootstrap: bool = False) -> None:
        c = self.cluster
        self.incarnation += 1
        self.engine = Engine.open(self.data_dir, commitlog_sync="batch", compaction=False,
                                  clock=c.wall_clock)
        self.engine.create_table("ks", "t", TABLE_ID)
        self.messaging = c.net.create(self.endpoint)
        self.gossiper = Gossiper(self.messaging, seeds=c.seeds, wall_clock=c.wall_clock,
                                 rng=random.Random(c.seed * 1000 + self.index * 10 + self.incarnation))
        self.storage = StorageService(self.gossiper, data_dir=self.data_dir, num_tokens=c.num_tokens,
                                      rng=random.Random(c.seed * 7 + self.index))
        self.hints = HintsService(self.storage, self.messaging, self.data_dir, enabled=hints_enabled)
        self.proxy = StorageProxy(self.storage, self.messaging, self.engine, self.hints,
                                  write_timeout=c.write_timeout, clock=c.wall_clock)
        self.paxos = Paxos(self.proxy, PaxosStateStore(os.path.join(self.data_dir, "paxos"), sync=False),
                           rng=random.Random(c.seed * 31 + self.index * 10 + self.incarnation))
        self.paxos.register()
        joined = []
        self.storage.join(joined.append, shadow_round=self.index != 0, bootstrap=bootstrap)
        assert c.scheduler.run_until_true(lambda: bool(joined), 40.0, step=0.1), "join timed out"
        self.hints.start()
        self.running = True

    def crash(self) -> None:
        """Kill the process: no goodbye to gossip, in-flight messages lost, engine not closed."""
        self.gossiper.stop(announce=False)
        self.hints.close()
        self.cluster.net.stop(self.endpoint)
        self.engine.abandon()
        self.paxos.store.close()
        self.running = False

    def stop(self) -> None:
        """Clean shutdown: announce it, flush the engine."""
        self.gossiper.stop(announce=True)
        self.cluster.run(0.1)
        self.hints.close()
        self.cluster.net.stop(self.endpoint)
        self.engine.close()
        self.paxos.store.close()
        self.running = False

    def read_local(self, key: bytes, tombstones: bool = False):
        return self.engine.read(TABLE_ID, key, tombstones=tombstones)


class SimCluster:
    def __init__(self, root, n: int = 5, seed: int = 7, num_tokens: int = 4,
                 write_timeout: float = 2.0) -> None:
        self.root = root
        self.seed = seed
        self.num_tokens = num_tokens
        self.write_timeout = write_timeout
        self.net = SimulatedNetwork(seed=seed)
        self.scheduler = self.net.scheduler
        self.endpoints = [Endpoint.of(f"127.0.0.{i + 1}") for i in range(n)]
        self.seeds = self.endpoints[:2]
        self.nodes = [SimNode(self, i) for i in range(n)]
        for node in self.nodes:
            node.start()
        self.wait_converged()

    # time
    def wall_clock(self) -> float:
        return EPOCH + self.scheduler.time()

    def run(self, seconds: float) -> None:
        self.scheduler.advance(seconds)

    def run_until(self, condition, timeout: float = 60.0) -> None:
        assert self.scheduler.run_until_true(condition, timeout, step=0.5), "condition not reached"

    # membership
    def running(self) -> list[SimNode]:
        return [n for n in self.nodes if n.running]

    def converged(self) -> bool:
        up = self.running()
        members = {n.endpoint for n in up}
        for node in up:
            if not members <= set(node.gossiper.live_members()):
                return False
            if set(node.storage.token_metadata.endpoints()) != set(self.endpoints):
                return False
        return True

    def wait_converged(self, timeout: float = 60.0) -> None:
        self.run_until(self.converged, timeout)

    def wait_seen_down(self, down: SimNode, timeout: float = 60.0) -> None:
        self.run_until(lambda: all(not n.gossiper.is_alive(down.endpoint) for n in self.running()),
                       timeout)

    def crash(self, *nodes: SimNode) -> None:
        for node in nodes:
            node.crash()
        for node in nodes:
            self.wait_seen_down(node)

    def restart(self, node: SimNode, **kw) -> None:
        node.start(**kw)
        self.wait_converged()

    # placement
    def replicas(self, key: bytes) -> list[SimNode]:
        eps = self.nodes[0].proxy.natural_replicas(KEYSPACE, _token(key))
        return [self.nodes[self.endpoints.index(e)] for e in eps]

    def non_replicas(self, key: bytes) -> list[SimNode]:
        reps = self.replicas(key)
        return [n for n in self.nodes if n not in reps]

    def close(self) -> None:
        for node in self.nodes:
            if node.running:
                node.crash()


def _token(key: bytes) -> int:
    from cqlpy.engine import murmur3
    return murmur3.token(key)


def row_update(key: bytes, clustering: bytes, value: bytes, ts: int) -> PartitionUpdate:
    row = Row(clustering, Cell(b"", ts), None, {"v": Cell(value, ts)})
    return PartitionUpdate(TABLE_ID, key, rows={clustering: row})


def delete_row(key: bytes, clustering: bytes, ts: int, now: int = EPOCH) -> PartitionUpdate:
    row = Row(clustering, None, DeletionTime(ts, now), {})
    return PartitionUpdate(TABLE_ID, key, rows={clustering: row})


def values(partition) -> dict[bytes, bytes]:
    """clustering -> value of column v, for a live read result."""
    if partition is None:
        return {}
    return {r.clustering: r.columns["v"].value for r in partition.rows if "v" in r.columns}
