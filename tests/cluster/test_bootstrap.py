"""StorageService bootstrap state over the simulated network: a new node (not a seed, no saved
state) gossips STATUS BOOT with its tokens, peers hold them as pending (a write reaches it as a
pending replica), nothing is saved until ``finish_bootstrap`` makes it NORMAL everywhere.  The
streaming itself runs between real processes (tests/integration/test_bootstrap.py)."""
import os

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.storage_service import RING_STATE_FILE

from .sim_cluster import KEYSPACE, SimCluster, SimNode, row_update


def test_a_new_node_bootstraps_then_turns_normal(tmp_path):
    c = SimCluster(tmp_path, n=3, seed=5)
    try:
        c.endpoints.append(Endpoint.of("127.0.0.4"))
        new = SimNode(c, 3)
        c.nodes.append(new)
        new.start(bootstrap=True)
        assert new.storage.bootstrapping
        assert not os.path.exists(os.path.join(new.data_dir, RING_STATE_FILE))
        old = c.nodes[:3]
        c.run_until(lambda: all(new.endpoint in n.storage.token_metadata.bootstrapping_endpoints()
                                for n in old))
        for n in old + [new]:
            tm = n.storage.token_metadata
            assert not tm.is_member(new.endpoint)
            assert set(tm.bootstrap_tokens()) == set(new.storage.tokens)

        # a key the new node will replicate: a write now reaches it too (pending replica)
        key = next(k for k in (b"k%d" % i for i in range(500))
                   if new.endpoint in _settled_replicas(old[0], k))
        old[0].proxy.write([row_update(key, b"c", b"v", 1)], KEYSPACE, CL.QUORUM)
        c.run_until(lambda: new.read_local(key) is not None)

        new.storage.finish_bootstrap()
        assert not new.storage.bootstrapping
        assert os.path.exists(os.path.join(new.data_dir, RING_STATE_FILE))
        c.wait_converged()
        for n in c.nodes:
            tm = n.storage.token_metadata
            assert tm.is_member(new.endpoint) and not tm.bootstrapping_endpoints()
            assert tm.tokens_of(new.endpoint) == new.storage.tokens
    finally:
        c.close()


def test_a_seed_or_the_first_node_does_not_bootstrap(tmp_path):
    c = SimCluster(tmp_path, n=2, seed=9)
    try:
        assert not any(n.storage.bootstrapping for n in c.nodes)
        restarted = c.nodes[1]
        restarted.stop()
        restarted.start(bootstrap=True)          # saved ring state: a restart joins as NORMAL
        assert not restarted.storage.bootstrapping
    finally:
        c.close()


def _settled_replicas(node, key):
    from cqlpy.engine import murmur3
    tm = node.storage.token_metadata.clone_after_all_settled()
    return KEYSPACE.replicas(murmur3.token(key), tm)
